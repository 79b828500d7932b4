"""Identity resolution: which customer each interaction belongs to (event-sourced)."""
