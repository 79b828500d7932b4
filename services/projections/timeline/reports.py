"""SQL that keeps the report projections from the interactions a batch inserts.

Appended to the timeline insert as further data-modifying CTEs over its ``new`` rows, so the
reports move in the same transaction as the timeline, and only for rows that were new. Rows are
taken in key order so that two share processes lock shared counters in one order. A reply joins
every request of its thread opened from an earlier message, whatever the request's status now:
a rebuild then attaches the same replies as the live run did.
"""

from __future__ import annotations

# A call counts as answered when the PBX says so or when it carries talk time (bench/work_load.py
# aggregates a bulk-loaded timeline with the same expressions).
TALK_S = ("CASE WHEN details->>'duration_s' ~ '^[0-9]+(\\.[0-9]+)?$'"
         " THEN (details->>'duration_s')::numeric END")
ANSWERED = (f"(channel = 'call' AND (coalesce(upper(details->>'disposition') = 'ANSWERED', false)"
             f" OR (details->>'disposition' IS NULL AND coalesce({TALK_S}, 0) > 0)))")

def thread_of(alias: str) -> str:
    """The thread an interaction belongs to: the mail thread, else the chat (the api reads the
    same keys when a request names the interaction it was opened from)."""
    return (f"coalesce({alias}.details->>'thread_id', {alias}.details->>'conversation_id',"
            f" {alias}.details->>'chat_id')")


# Its tables: the timeline's worker owns them (a rebuild of the timeline refills them).
REPORT_PROJECTIONS = ("customer_contacts", "activity_daily", "request_interactions")

# A new contacts row takes the profile's owner: after a rebuild of the timeline alone the
# dormant-per-owner report still finds it (the work projection keeps it up to date after).
REPORT_ROWS = (
    " contacts AS (INSERT INTO customer_contacts (customer_id, last_contact_at, owner)"
    " SELECT n.customer_id, max(n.occurred_at), (SELECT p.owner FROM customer_profiles p"
    " WHERE p.customer_id = n.customer_id) FROM new n GROUP BY n.customer_id ORDER BY n.customer_id"
    " ON CONFLICT (customer_id) DO UPDATE SET last_contact_at = excluded.last_contact_at"
    " WHERE customer_contacts.last_contact_at IS NULL"
    " OR customer_contacts.last_contact_at < excluded.last_contact_at),"
    " replies AS (INSERT INTO request_interactions (request_id, interaction_id, occurred_at)"
    " SELECT r.request_id, n.interaction_id, n.occurred_at FROM new n JOIN work_requests r"
    f" ON r.thread = {thread_of('n')}"
    " AND n.occurred_at > r.thread_since"
    " WHERE n.direction = 'inbound' AND n.details ?| array['thread_id', 'conversation_id', 'chat_id']"
    " ON CONFLICT DO NOTHING)"
    " INSERT INTO activity_daily (day, channel, agent_id, interactions, inbound, outbound,"
    " calls_answered, calls_missed, talk_time_s)"
    " SELECT (occurred_at AT TIME ZONE 'UTC')::date, channel, coalesce(agent_id, ''), count(*),"
    " count(*) FILTER (WHERE direction = 'inbound'), count(*) FILTER (WHERE direction = 'outbound'),"
    f" count(*) FILTER (WHERE {ANSWERED}),"
    f" count(*) FILTER (WHERE channel = 'call' AND NOT {ANSWERED}),"
    f" coalesce(sum({TALK_S}) FILTER (WHERE channel = 'call'), 0)"
    " FROM new GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
    " ON CONFLICT (day, channel, agent_id) DO UPDATE SET"
    " interactions = activity_daily.interactions + excluded.interactions,"
    " inbound = activity_daily.inbound + excluded.inbound,"
    " outbound = activity_daily.outbound + excluded.outbound,"
    " calls_answered = activity_daily.calls_answered + excluded.calls_answered,"
    " calls_missed = activity_daily.calls_missed + excluded.calls_missed,"
    " talk_time_s = activity_daily.talk_time_s + excluded.talk_time_s"
)
