-- The raw validator's outbox: records it decided to forward or dead-letter, committed with its
-- tracked position on interactions.raw.v1; a relay publishes and deletes them (issue 13).
CREATE TABLE IF NOT EXISTS channel_outbox (
    position bigserial PRIMARY KEY,
    topic text NOT NULL,
    key bytea,
    value bytea NOT NULL,
    headers jsonb NOT NULL DEFAULT '[]'
);
