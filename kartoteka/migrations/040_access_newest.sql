-- The access list is newest first by time, ties by sequence: records reach the trail in the
-- order the audit projection consumed them (several api processes, several partitions), not
-- in the order they happened. These serve that order and its (at, seq) cursor.
CREATE INDEX IF NOT EXISTS access_log_newest ON access_log (at DESC, seq DESC);
CREATE INDEX IF NOT EXISTS access_log_employee_newest ON access_log (employee_id, at DESC, seq DESC);
DROP INDEX IF EXISTS access_log_at;
DROP INDEX IF EXISTS access_log_employee;
