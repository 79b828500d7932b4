"""The event contract of Kartoteka: pydantic models, versions and (de)serialisation.

Nothing in this package performs I/O or imports from ``services``.
"""
