-- Resolver-owned index of the identity graph: written in the same transaction as the
-- customer events, so lookups never disagree with the event store.
CREATE TABLE IF NOT EXISTS identity_index (
    key          text PRIMARY KEY,          -- kind:value, e.g. phone:+79123456789
    customer_id  uuid NOT NULL,
    linked_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS identity_index_customer ON identity_index (customer_id);

-- Card read model.
CREATE TABLE IF NOT EXISTS customers (
    id            uuid PRIMARY KEY,
    name          text,
    name_at       timestamptz,
    merged_into   uuid,
    registered_at timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS customer_identifiers (
    customer_id  uuid NOT NULL,
    kind         text NOT NULL,
    value        text NOT NULL,
    valid        boolean NOT NULL DEFAULT true,
    channel      text NOT NULL,
    first_seen   timestamptz NOT NULL,
    last_seen    timestamptz NOT NULL,
    PRIMARY KEY (customer_id, kind, value)
);
CREATE INDEX IF NOT EXISTS customer_identifiers_lookup ON customer_identifiers (kind, value);

-- Timeline read model: one row per interaction, whatever the number of deliveries.
CREATE TABLE IF NOT EXISTS timeline (
    interaction_id uuid PRIMARY KEY,
    customer_id    uuid NOT NULL,
    seq            bigint NOT NULL,          -- position in the identity log: per-customer order
    external_id    text NOT NULL,
    channel        text NOT NULL,
    direction      text NOT NULL,
    occurred_at    timestamptz NOT NULL,
    agent_id       text,
    subject        text,
    body           text,
    details        jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX IF NOT EXISTS timeline_by_customer
    ON timeline (customer_id, occurred_at DESC, seq DESC);

-- Audit trail: append-only record of every access to customer data.
CREATE TABLE IF NOT EXISTS access_log (
    seq          bigserial PRIMARY KEY,
    id           uuid NOT NULL UNIQUE,
    employee_id  text NOT NULL,
    role         text NOT NULL,
    action       text NOT NULL,
    customer_ids text[] NOT NULL DEFAULT '{}',
    at           timestamptz NOT NULL,
    request_id   text NOT NULL,
    client       text,
    route        text NOT NULL,
    query        text,
    recorded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS access_log_employee ON access_log (employee_id, at DESC);
CREATE INDEX IF NOT EXISTS access_log_at ON access_log (at DESC);
CREATE INDEX IF NOT EXISTS access_log_customers ON access_log USING gin (customer_ids);

-- The audit trail may only grow: even the table owner cannot rewrite it by accident.
CREATE OR REPLACE FUNCTION access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'access_log is append-only';
END $$;
DROP TRIGGER IF EXISTS access_log_no_rewrite ON access_log;
CREATE TRIGGER access_log_no_rewrite BEFORE UPDATE OR DELETE ON access_log
    FOR EACH ROW EXECUTE FUNCTION access_log_append_only();
