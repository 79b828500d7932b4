-- The duplicate finder's candidates are the customers sharing a blocking key with a batch's
-- records. `block_keys && $1` on match_records, with a gathered batch's keys (tens of thousands),
-- was a sequential scan comparing every customer's keys with every batch key: 65 s for 2,000
-- records against 18,000 customers, and growing with both (the GIN index lost to it on cost, and
-- took 18 s when forced). One row per (key, customer) makes it an index probe per key: 55 ms.
CREATE TABLE IF NOT EXISTS match_blocks (
    block_key   text NOT NULL,
    customer_id uuid NOT NULL,
    PRIMARY KEY (block_key, customer_id)
);
CREATE INDEX IF NOT EXISTS match_blocks_customer ON match_blocks (customer_id);

INSERT INTO match_blocks (block_key, customer_id)
SELECT DISTINCT unnest(block_keys), customer_id FROM match_records
ON CONFLICT DO NOTHING;

-- The record (jsonb) keeps its keys; the column and its GIN index only served the old query.
DROP INDEX IF EXISTS match_records_keys;
ALTER TABLE match_records DROP COLUMN IF EXISTS block_keys;
