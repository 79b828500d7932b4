"""Quality and speed of the duplicate finder (issue 20): datasets, the evaluation, the report."""
