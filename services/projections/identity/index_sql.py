"""SQL the resolver runs inside its event transaction, to keep its lookup tables in step."""

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
