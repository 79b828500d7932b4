"""The audit trail: a tamper-evident hash chain of access records and exfiltration detectors."""
