-- Issue 4: the hash-chained audit trail, employee context, detector state and alerts,
-- and the database role the api runs under.

-- Chain columns: the audit worker (the single writer) numbers rows without gaps per chain
-- and links each to the previous one. Rows written before this migration stay unchained
-- (chain_seq NULL) and /v1/audit/verify reports how many there are.
ALTER TABLE access_log
    ADD COLUMN IF NOT EXISTS chain_seq       bigint,
    ADD COLUMN IF NOT EXISTS prev_hash       text,
    ADD COLUMN IF NOT EXISTS hash            text,
    ADD COLUMN IF NOT EXISTS kafka_partition integer,
    ADD COLUMN IF NOT EXISTS kafka_offset    bigint;
CREATE UNIQUE INDEX IF NOT EXISTS access_log_chain_seq ON access_log (chain_seq);

-- The head of each chain, locked (SELECT ... FOR UPDATE) by the writer for the length of
-- its transaction and signed, so cutting rows off the end is detectable.
CREATE TABLE IF NOT EXISTS audit_chain_head (
    chain       text PRIMARY KEY,
    seq         bigint NOT NULL,
    hash        text NOT NULL,
    signature   text NOT NULL DEFAULT '',
    updated_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO audit_chain_head (chain, seq, hash)
    VALUES ('access', 0, repeat('0', 64)) ON CONFLICT (chain) DO NOTHING;

-- Periodic signed checkpoints (HMAC-SHA256 over seq and hash, key derived from the secret).
CREATE TABLE IF NOT EXISTS audit_checkpoints (
    chain      text NOT NULL,
    seq        bigint NOT NULL,
    hash       text NOT NULL,
    signature  text NOT NULL,
    signed_at  timestamptz NOT NULL,
    PRIMARY KEY (chain, seq)
);

-- Append-only, for the trail and its checkpoints, including TRUNCATE (a statement trigger:
-- the row triggers of 001 do not fire on TRUNCATE).
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END $$;
DROP TRIGGER IF EXISTS access_log_no_truncate ON access_log;
CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
DROP TRIGGER IF EXISTS audit_checkpoints_no_rewrite ON audit_checkpoints;
CREATE TRIGGER audit_checkpoints_no_rewrite BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
DROP TRIGGER IF EXISTS audit_checkpoints_no_truncate ON audit_checkpoints;
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();

-- Employee context read model (employees.v1): status, team (the peer group), hours.
CREATE TABLE IF NOT EXISTS employees (
    employee_id      text PRIMARY KEY,
    status           text NOT NULL,
    team             text,
    role             text,
    timezone         text,
    work_start       smallint,
    work_end         smallint,
    effective_at     timestamptz NOT NULL,
    notice_given_at  timestamptz,
    changed_at       timestamptz NOT NULL,
    changed_by       text NOT NULL,
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS employees_not_active ON employees (employee_id) WHERE status <> 'active';
CREATE INDEX IF NOT EXISTS employees_team ON employees (team);

-- Detector state: the recent access stream per employee and the alerts already raised.
CREATE TABLE IF NOT EXISTS detect_accesses (
    id            uuid PRIMARY KEY,
    employee_id   text NOT NULL,
    action        text NOT NULL,
    customer_ids  text[] NOT NULL DEFAULT '{}',
    at            timestamptz NOT NULL,
    query         text,
    kafka_offset  bigint
);
CREATE INDEX IF NOT EXISTS detect_accesses_employee ON detect_accesses (employee_id, at);

CREATE TABLE IF NOT EXISTS detect_raised (
    alert_id       uuid PRIMARY KEY,
    severity_rank  smallint NOT NULL,
    raised_at      timestamptz NOT NULL DEFAULT now()
);

-- Alerts read model (alerts.v1), one row per alert id, keeping the highest severity seen.
CREATE TABLE IF NOT EXISTS alerts (
    id             uuid PRIMARY KEY,
    employee_id    text NOT NULL,
    kind           text NOT NULL,
    severity       text NOT NULL,
    severity_rank  smallint NOT NULL,
    score          double precision NOT NULL,
    window_start   timestamptz NOT NULL,
    window_end     timestamptz NOT NULL,
    evidence       jsonb NOT NULL DEFAULT '{}'::jsonb,
    raised_at      timestamptz NOT NULL,
    detector       text NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS alerts_newest ON alerts (raised_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS alerts_employee ON alerts (employee_id, raised_at DESC);

-- Business reason: the detectors look up the customers of an agent's own interactions.
CREATE INDEX IF NOT EXISTS timeline_by_agent ON timeline (agent_id, occurred_at);

-- The api's role: reads every read model, writes nothing, so it cannot UPDATE or DELETE
-- audit rows even through a bug. Creating a role needs CREATEROLE (or a superuser); where
-- the migrating user lacks it, the role is skipped with a notice and the api runs under
-- the connecting user (it logs a warning at start-up).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'kartoteka_api') THEN
        BEGIN
            CREATE ROLE kartoteka_api NOLOGIN;
        EXCEPTION
            WHEN insufficient_privilege THEN
                RAISE NOTICE 'cannot create role kartoteka_api: %', SQLERRM;
            WHEN duplicate_object THEN
                NULL;  -- another database of the cluster migrated at the same time
        END;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'kartoteka_api') THEN
        BEGIN
            -- Membership lets the api's connections SET ROLE kartoteka_api.
            EXECUTE format('GRANT kartoteka_api TO %I', current_user);
        EXCEPTION WHEN insufficient_privilege OR invalid_grant_operation THEN
            RAISE NOTICE 'cannot grant kartoteka_api to %: %', current_user, SQLERRM;
        END;
        EXECUTE 'GRANT USAGE ON SCHEMA public TO kartoteka_api';
        EXECUTE 'GRANT SELECT ON ALL TABLES IN SCHEMA public TO kartoteka_api';
        EXECUTE 'REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA public FROM kartoteka_api';
        -- Tables of later migrations are readable by the api without another grant.
        EXECUTE 'ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO kartoteka_api';
    END IF;
END $$;
