-- Personal data (issue 16). Data keys wrapped by the master key: deleting a row is the
-- crypto-shredding of everything sealed under it (kartoteka/keystore.py, events/sealing.py).
CREATE TABLE IF NOT EXISTS data_keys (
    subject     text PRIMARY KEY,          -- i:<interaction id>, c:<customer id>, audit
    wrapped     bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
-- Bumped by every destruction, so processes drop the keys they cached.
CREATE TABLE IF NOT EXISTS key_epoch (
    one    boolean PRIMARY KEY DEFAULT true CHECK (one),
    epoch  bigint NOT NULL DEFAULT 0
);
INSERT INTO key_epoch (one, epoch) VALUES (true, 0) ON CONFLICT DO NOTHING;

-- Erased customers (every member id of the erased whole): reads answer 410 Gone.
CREATE TABLE IF NOT EXISTS erased_customers (
    customer_id  uuid PRIMARY KEY,
    erased_as    uuid NOT NULL,            -- the id the erasure was asked for
    reason       text NOT NULL,
    erased_by    text NOT NULL,
    erased_at    timestamptz NOT NULL
);

-- Legal holds: while one is in force on a customer, neither erasure nor retention touches it.
CREATE TABLE IF NOT EXISTS legal_holds (
    customer_id  uuid PRIMARY KEY,
    reason       text NOT NULL,
    until        timestamptz NOT NULL,
    placed_by    text NOT NULL,
    placed_at    timestamptz NOT NULL
);
