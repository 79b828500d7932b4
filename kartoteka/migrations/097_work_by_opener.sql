-- The detectors ask, per evaluation of an employee, which customers they have a reason to read:
-- requests assigned to or opened by them, tasks assigned to or created by them
-- (services/projections/detect/context.py). Only the assignee was indexed, so the OR read the
-- whole of work_requests: 26 ms at 100k requests, most of PostgreSQL's CPU while agents read
-- cards (an evaluation per agent per second), and the reads' tail waited for it.
CREATE INDEX IF NOT EXISTS work_requests_opened_by ON work_requests (opened_by);
CREATE INDEX IF NOT EXISTS work_tasks_created_by ON work_tasks (created_by);
