"""Every read model row of a customer, in one list: what ``CustomerErased`` deletes.

A read model that keeps rows about a customer adds its statement here (one parameter: the
customer id), so an erasure and every rebuild after it reach it. Aggregates without ids
(``activity_daily``'s counts per day, channel and agent) are kept: they name nobody.
"""

from __future__ import annotations

ERASE_CUSTOMER = (
    "DELETE FROM request_interactions WHERE request_id IN"
    " (SELECT request_id FROM work_requests WHERE customer_id = %(id)s)",
    "DELETE FROM request_changes WHERE request_id IN"
    " (SELECT request_id FROM work_requests WHERE customer_id = %(id)s)",
    "DELETE FROM work_requests WHERE customer_id = %(id)s",
    "DELETE FROM work_notes WHERE customer_id = %(id)s",
    "DELETE FROM work_tasks WHERE customer_id = %(id)s",
    "DELETE FROM customer_profiles WHERE customer_id = %(id)s",
    "DELETE FROM customer_contacts WHERE customer_id = %(id)s",
    "DELETE FROM timeline WHERE customer_id = %(id)s",
    "DELETE FROM customer_identifiers WHERE customer_id = %(id)s",
    "DELETE FROM customer_history WHERE customer_id = %(id)s",
    "DELETE FROM customers WHERE id = %(id)s",
)
# Names are kept distinct apart from the customers (search); a name nobody has any more goes.
ORPHAN_NAMES = ("DELETE FROM customer_names k WHERE NOT EXISTS"
                " (SELECT FROM customers c WHERE c.search_name = k.search_name)")


def statements(customer_ids: list[str]) -> list[tuple[str, list[object]]]:
    """(statement, parameter sets) erasing ``customer_ids`` from every read model."""
    if not customer_ids:
        return []
    params: list[object] = [{"id": c} for c in customer_ids]
    return [*((s, params) for s in ERASE_CUSTOMER), (ORPHAN_NAMES, [{}])]
