"""The three services: ingest, projections, api. None imports another."""
