-- Possible duplicates (issue 20): matching attributes with provenance, matching records with
-- their blocking keys, the trained models, and proposals with their evidence and decisions.

-- One row per attribute value an interaction or a profile change showed; the customer
-- follows merges and re-attributions the way the identity graph does.
CREATE TABLE IF NOT EXISTS match_attributes (
    source      text NOT NULL,              -- interaction id or profile change id
    attribute   text NOT NULL,              -- name | birth_date | address | company | phone | email
    value       text NOT NULL,
    customer_id uuid NOT NULL,
    channel     text NOT NULL,              -- the interaction's channel, or 'profile'
    seen_at     timestamptz NOT NULL,
    PRIMARY KEY (source, attribute, value)
);
CREATE INDEX IF NOT EXISTS match_attributes_customer ON match_attributes (customer_id);

CREATE TABLE IF NOT EXISTS match_records (
    customer_id uuid PRIMARY KEY,
    record      jsonb NOT NULL,
    block_keys  text[] NOT NULL
);
CREATE INDEX IF NOT EXISTS match_records_keys ON match_records USING gin (block_keys);

CREATE TABLE IF NOT EXISTS duplicate_models (
    model_id   bigserial PRIMARY KEY,
    trained_at timestamptz NOT NULL DEFAULT now(),
    customers  integer NOT NULL,
    model      jsonb NOT NULL
);

CREATE TABLE IF NOT EXISTS duplicate_proposals (
    proposal_id uuid PRIMARY KEY,
    customer_a  uuid NOT NULL,
    customer_b  uuid NOT NULL,
    score       double precision NOT NULL,
    evidence    jsonb NOT NULL,
    status      text NOT NULL DEFAULT 'open',   -- open | accepted | rejected
    proposed_at timestamptz NOT NULL,
    decided_at  timestamptz,
    decided_by  text,
    reason      text
);
CREATE INDEX IF NOT EXISTS duplicate_proposals_queue ON duplicate_proposals (status, score DESC, proposal_id);
CREATE INDEX IF NOT EXISTS duplicate_proposals_a ON duplicate_proposals (customer_a);
CREATE INDEX IF NOT EXISTS duplicate_proposals_b ON duplicate_proposals (customer_b);
