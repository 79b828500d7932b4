-- Issue 17: alerts worked to an end. The alerts projection keeps each alert's status, every
-- change an officer made (the audited history), and the suppressions false positives set.
ALTER TABLE alerts
    ADD COLUMN IF NOT EXISTS status          text NOT NULL DEFAULT 'open',
    ADD COLUMN IF NOT EXISTS status_at       timestamptz,
    ADD COLUMN IF NOT EXISTS status_by       text,
    ADD COLUMN IF NOT EXISTS status_comment  text,
    ADD COLUMN IF NOT EXISTS suppressed_by   uuid;
CREATE INDEX IF NOT EXISTS alerts_status ON alerts (status, raised_at DESC, id DESC);

CREATE TABLE IF NOT EXISTS alert_status_log (
    change_id   uuid PRIMARY KEY,
    alert_id    uuid NOT NULL,
    employee_id text NOT NULL,
    status      text NOT NULL,
    previous    text,
    applied     boolean NOT NULL,
    comment     text,
    by_officer  text NOT NULL,
    at          timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS alert_status_log_alert ON alert_status_log (alert_id, at);

-- One per false positive: alerts of this pattern (employee, kind, at most this severity)
-- raised before ``until`` are recorded as suppressed.
CREATE TABLE IF NOT EXISTS alert_suppressions (
    alert_id       uuid PRIMARY KEY,
    employee_id    text NOT NULL,
    kind           text NOT NULL,
    severity_rank  smallint NOT NULL,
    since          timestamptz NOT NULL,
    until          timestamptz NOT NULL,
    by_officer     text NOT NULL,
    comment        text
);
CREATE INDEX IF NOT EXISTS alert_suppressions_pattern ON alert_suppressions (employee_id, kind, until);
