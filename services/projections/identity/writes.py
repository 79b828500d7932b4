"""SQL the resolver runs inside its event transaction, to keep its lookup tables in step."""

REGISTER = "INSERT INTO identity_customers (customer_id, registered_at) VALUES (%s, %s)"
# A plain insert: if another resolver linked the key first, the conflict makes us decide again.
INDEX = "INSERT INTO identity_index (customer_id, key) VALUES (%s, %s)"
UNMATCHED = "INSERT INTO identity_unmatched (customer_id, key) VALUES (%s, %s) ON CONFLICT DO NOTHING"
ATTRIBUTE = "INSERT INTO identity_attributions (interaction_id, customer_id, keys) VALUES (%s, %s, %s)"
MERGE = (
    "UPDATE identity_customers SET merged_into = %s WHERE customer_id = %s",
    "UPDATE identity_index SET customer_id = %s WHERE customer_id = %s",
    "UPDATE identity_attributions SET customer_id = %s WHERE customer_id = %s",
    "UPDATE identity_customers SET merged_into = %s WHERE merged_into = %s",
)
MERGE_TIMES = "UPDATE identity_index SET merge_times = array_append(merge_times, %s) WHERE key = ANY(%s)"
MOVE_KEYS = "UPDATE identity_index SET customer_id = %s WHERE key = ANY(%s)"
SEPARATE = "INSERT INTO identity_separations (a, b) VALUES (%s, %s) ON CONFLICT DO NOTHING"
REATTRIBUTE = "UPDATE identity_attributions SET customer_id = %s WHERE interaction_id = %s"
