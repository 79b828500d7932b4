"""Topic names of the contract (suggested in ARCHITECTURE.md)."""

INTERACTIONS = "interactions.v1"
INTERACTIONS_DLQ = "interactions.dlq"
CUSTOMERS = "customers.v1"
ACCESS = "access.v1"
ALERTS = "alerts.v1"
EMPLOYEES = "employees.v1"

IDENTITY_COMMANDS = "identity.commands.v1"
WORK_COMMANDS = "work.commands.v1"
AUDIT_CHECKPOINTS = "audit.checkpoints.v1"
INTERACTIONS_RAW = "interactions.raw.v1"  # canonical JSON from foreign Kafka producers

ALL = (INTERACTIONS, INTERACTIONS_DLQ, CUSTOMERS, ACCESS, ALERTS, EMPLOYEES, IDENTITY_COMMANDS,
       AUDIT_CHECKPOINTS, WORK_COMMANDS, INTERACTIONS_RAW)
