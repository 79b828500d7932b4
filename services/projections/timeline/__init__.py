"""Card + timeline projection: customers.v1 -> read models."""
