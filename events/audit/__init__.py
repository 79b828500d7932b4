"""The audit trail's contract: the hash chain and the canonical access record it covers.

Pure and shared: the audit projection writes the chain, the api verifies it, and anyone
holding an export can recompute it.
"""
