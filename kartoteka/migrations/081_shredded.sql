-- Subjects whose data keys were destroyed (erasure, retention): no key is ever issued for them
-- again, so a re-sent erased interaction cannot come back under a fresh key (issue 16).
-- Subjects are i:<interaction id> / c:<customer id>: keyed-HMAC ids, no personal data.
CREATE TABLE IF NOT EXISTS shredded_subjects (
    subject      text PRIMARY KEY,
    shredded_at  timestamptz NOT NULL DEFAULT now()
);
