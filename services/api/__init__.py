"""Read API and pages for agents and security officers; every read of customer data is audited."""
