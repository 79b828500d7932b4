-- Resolver-owned (issue 20): the identifiers each customer brought, kept under its own id
-- through merges (identity_index follows the root). A split takes along every merged-in
-- member left without identifiers, as the card projection does, so a later merge command
-- naming that member lands on the customer it now belongs to.
CREATE TABLE IF NOT EXISTS identity_member_keys (
    customer_id uuid NOT NULL,
    key         text NOT NULL,
    PRIMARY KEY (customer_id, key)
);
CREATE INDEX IF NOT EXISTS identity_member_keys_key ON identity_member_keys (key);

-- Backfill, once. Roots hold their members' keys too (identity_index follows merges), and a
-- merged customer gets the keys of the interactions first attributed to it: more keys than it
-- brought at worst, so an old member may stay where it is, never move wrongly.
INSERT INTO identity_member_keys (customer_id, key)
    SELECT customer_id, key FROM identity_index ON CONFLICT DO NOTHING;
INSERT INTO identity_member_keys (customer_id, key)
    SELECT customer_id, key FROM identity_unmatched ON CONFLICT DO NOTHING;
INSERT INTO identity_member_keys (customer_id, key)
    SELECT first.customer_id, k.key
    FROM identity_attributions a
    JOIN identity_events e ON e.originator_id = a.interaction_id AND e.originator_version = 1
    CROSS JOIN LATERAL (SELECT substring(encode(substring(e.state FROM 1 FOR 400), 'escape')
                                         FROM '"customer_id":"([0-9a-f-]{36})"')::uuid AS customer_id) first
    JOIN identity_customers c ON c.customer_id = first.customer_id AND c.merged_into IS NOT NULL
    CROSS JOIN LATERAL unnest(string_to_array(a.keys, E'\n')) AS k(key)
    WHERE k.key <> ''
    ON CONFLICT DO NOTHING;
