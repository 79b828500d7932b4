"""SQL the resolver runs inside its event transaction, to keep its lookup tables in step, and the
look-ups of a batch's snapshot of them."""

from kartoteka import db

# Inserts take one typed array per column (``unnest``), in binary: one statement per batch.
# Row-at-a-time executemany and text-format arrays cost the resolver more CPU than deciding.
REGISTER = ("INSERT INTO identity_customers (customer_id, registered_at)"
            " SELECT * FROM unnest(%b::uuid[], %b::timestamptz[])")
# A plain insert: if another resolver linked the key first, the conflict makes us decide again.
INDEX = "INSERT INTO identity_index (customer_id, key) SELECT * FROM unnest(%b::uuid[], %b::text[])"
UNMATCHED = ("INSERT INTO identity_unmatched (customer_id, key)"
             " SELECT * FROM unnest(%b::uuid[], %b::text[]) ON CONFLICT DO NOTHING")
ATTRIBUTE = ("INSERT INTO identity_attributions (interaction_id, customer_id, keys)"
             " SELECT * FROM unnest(%b::uuid[], %b::uuid[], %b::text[])")
SEPARATE = ("INSERT INTO identity_separations (a, b)"
            " SELECT * FROM unnest(%b::uuid[], %b::uuid[]) ON CONFLICT DO NOTHING")
# Written last, one row per customer (the batch's final traits), so it may touch rows of this batch.
TRAITS = ("INSERT INTO identity_traits (customer_id, birth_date, first_name, surname)"
          " SELECT * FROM unnest(%b::uuid[], %b::text[], %b::text[], %b::text[])"
          " ON CONFLICT (customer_id) DO UPDATE SET birth_date = excluded.birth_date,"
          " first_name = excluded.first_name, surname = excluded.surname")
HOLD = ("INSERT INTO identity_held (key, customer_id)"
        " SELECT * FROM unnest(%b::text[], %b::uuid[]) ON CONFLICT DO NOTHING")
# The keys each customer linked itself, kept under its id through merges (a split reads them).
MEMBER_KEY = ("INSERT INTO identity_member_keys (customer_id, key)"
              " SELECT * FROM unnest(%b::uuid[], %b::text[]) ON CONFLICT DO NOTHING")
BULK = frozenset((REGISTER, INDEX, UNMATCHED, ATTRIBUTE, SEPARATE, TRAITS, HOLD, MEMBER_KEY))

# A customer's direct survivor: set by a merge, moved by a split that takes the member along.
REHOME = "UPDATE identity_customers SET merged_into = %s WHERE customer_id = %s"
# Updates run row by row in decision order: merges and splits are rare, and each may update
# rows an earlier decision of the same batch wrote.
MERGE = (
    REHOME,
    "UPDATE identity_index SET customer_id = %s WHERE customer_id = %s",
    "UPDATE identity_attributions SET customer_id = %s WHERE customer_id = %s",
    "UPDATE identity_customers SET merged_into = %s WHERE merged_into = %s",
)
MERGE_TIMES = "UPDATE identity_index SET merge_times = array_append(merge_times, %s) WHERE key = ANY(%s)"
MOVE_KEYS = "UPDATE identity_index SET customer_id = %s WHERE key = ANY(%s)"
# An unlinked key leaves the customer and every member merged into it (merged_into is flat).
UNLINK_MEMBERS = ("DELETE FROM identity_member_keys WHERE key = %s AND (customer_id = %s"
                  " OR customer_id IN (SELECT customer_id FROM identity_customers WHERE merged_into = %s))")
REATTRIBUTE = "UPDATE identity_attributions SET customer_id = %s WHERE interaction_id = %s"

# The snapshot's look-ups, sent in two pipelines (identity_log.IdentityLog.snapshot).
SNAPSHOT_OWNERS = "SELECT key, customer_id::text, merge_times FROM identity_index WHERE key = ANY(%b)"
SNAPSHOT_HELD = "SELECT key, customer_id::text FROM identity_held WHERE key = ANY(%b)"
# An erased customer is no longer known: a merge naming one is refused, not sealed under a
# key that no longer exists.
_KNOWN = (" SELECT c.customer_id::text, c.registered_at, c.merged_into::text FROM identity_customers c"
          " JOIN wanted USING (customer_id)"
          " WHERE NOT EXISTS (SELECT FROM erased_customers e WHERE e.customer_id = c.customer_id)")
# The customers named, owning one of the keys or holding one (their survivors come next).
SNAPSHOT_CUSTOMERS = (
    "WITH wanted AS (SELECT unnest(%b::uuid[]) AS customer_id"
    " UNION SELECT customer_id FROM identity_index WHERE key = ANY(%b)"
    " UNION SELECT customer_id FROM identity_held WHERE key = ANY(%b))" + _KNOWN)
SNAPSHOT_CUSTOMERS_BY_ID = "WITH wanted AS (SELECT unnest(%b::uuid[]) AS customer_id)" + _KNOWN
SNAPSHOT_SEPARATIONS = ("SELECT a::text, b::text FROM identity_separations"
                        " WHERE a = ANY(%b::uuid[]) OR b = ANY(%b::uuid[])")
SNAPSHOT_TRAITS = ("SELECT customer_id::text, birth_date, first_name, surname FROM identity_traits"
                   " WHERE customer_id = ANY(%b::uuid[])")
SNAPSHOT_UNMATCHED = "SELECT customer_id::text, key FROM identity_unmatched WHERE customer_id = ANY(%b::uuid[])"
SNAPSHOT_ATTRIBUTED = (f"SELECT originator_id::text FROM {db.IDENTITY_EVENTS_TABLE}"  # noqa: S608
                       " WHERE originator_id = ANY(%b::uuid[]) AND originator_version = 1")
