-- Identity resolution beyond exact matching: merges, splits, guards (issue 3).

-- Resolver-owned: every customer the graph knows, its registration time (the older one
-- survives a merge) and where a merged customer went.
CREATE TABLE IF NOT EXISTS identity_customers (
    customer_id   uuid PRIMARY KEY,
    registered_at timestamptz NOT NULL,
    merged_into   uuid
);
ALTER TABLE identity_index ADD COLUMN IF NOT EXISTS merge_times timestamptz[] NOT NULL DEFAULT '{}';
-- Which matchable identifiers brought each interaction: a split moves the interactions
-- that came only through the identifiers it moves.
CREATE TABLE IF NOT EXISTS identity_attributions (
    interaction_id uuid PRIMARY KEY,
    customer_id    uuid NOT NULL,
    keys           text NOT NULL            -- newline-separated: cheaper to write than text[]
);
CREATE INDEX IF NOT EXISTS identity_attributions_customer ON identity_attributions (customer_id);
CREATE TABLE IF NOT EXISTS identity_separations (
    a uuid NOT NULL,
    b uuid NOT NULL,
    PRIMARY KEY (a, b)
);
CREATE TABLE IF NOT EXISTS identity_unmatched (
    customer_id uuid NOT NULL,
    key         text NOT NULL,
    PRIMARY KEY (customer_id, key)
);

-- Card read model additions.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
ALTER TABLE customers ADD COLUMN IF NOT EXISTS search_name text
    GENERATED ALWAYS AS (lower(translate(coalesce(name, ''), 'ёЁ', 'еЕ'))) STORED;
ALTER TABLE customers ADD COLUMN IF NOT EXISTS search_tsv tsvector
    GENERATED ALWAYS AS (
        to_tsvector('russian', translate(coalesce(name, ''), 'ёЁ', 'еЕ'))
        || to_tsvector('simple', translate(coalesce(name, ''), 'ёЁ', 'еЕ'))
    ) STORED;
CREATE INDEX IF NOT EXISTS customers_search_trgm ON customers USING gin (search_name gin_trgm_ops);
CREATE INDEX IF NOT EXISTS customers_search_tsv ON customers USING gin (search_tsv);
CREATE INDEX IF NOT EXISTS customers_merged_into ON customers (merged_into) WHERE merged_into IS NOT NULL;


-- Merge and split history with its evidence ("why are these linked?"), and held-back links.
CREATE TABLE IF NOT EXISTS customer_history (
    event_id    uuid PRIMARY KEY,
    customer_id uuid NOT NULL,
    kind        text NOT NULL,              -- merged_in, merged_into, split_off, split_from, suspicious_link
    other_ids   uuid[] NOT NULL DEFAULT '{}',
    at          timestamptz NOT NULL,
    evidence    jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX IF NOT EXISTS customer_history_customer ON customer_history (customer_id, at);

-- Merges on the read side: a customer's root is the card it answers with. Rows stay
-- under the id they were recorded with; reads gather every member of a root.
ALTER TABLE customers ADD COLUMN IF NOT EXISTS root_id uuid;
CREATE INDEX IF NOT EXISTS customers_root ON customers (root_id) WHERE root_id IS NOT NULL;
