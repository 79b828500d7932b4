-- The outbox: every record a worker (or the api) sends, written in the same transaction as
-- the state it follows from. The relay publishes each topic's rows in seq order from a
-- tracked position. Writers take a transaction-scoped advisory lock before inserting, so seq
-- order is commit order and the relay never passes a row that commits later.
CREATE TABLE IF NOT EXISTS outbox (
    seq         bigserial PRIMARY KEY,
    topic       text NOT NULL,          -- the contract's topic name, without the deployment prefix
    key         bytea,
    value       bytea NOT NULL,
    headers     jsonb NOT NULL DEFAULT '[]'::jsonb,
    written_by  text NOT NULL,
    written_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS outbox_topic_seq ON outbox (topic, seq);

-- The api records a chain alert found by /v1/audit/verify here, and may do nothing else.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'kartoteka_api') THEN
        EXECUTE 'GRANT INSERT ON outbox TO kartoteka_api';
        EXECUTE 'GRANT USAGE ON SEQUENCE outbox_seq_seq TO kartoteka_api';
    END IF;
END $$;
