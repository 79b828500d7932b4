"""``kartoteka simulate-staff``: simulated contact-center staff, injected insiders, detector figures."""
