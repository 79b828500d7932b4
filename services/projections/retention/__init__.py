"""Retention: expired interactions leave the read models and their data keys are destroyed."""
