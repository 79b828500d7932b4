"""The benchmark phases; each returns a JSON-ready dict with its figures, baselines and series."""
