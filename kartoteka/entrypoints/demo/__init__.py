"""``kartoteka demo``: a realistic sample loaded into the running stack."""
