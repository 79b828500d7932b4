"""Employee context: employees.v1 -> the employees read model (status, team, hours)."""
