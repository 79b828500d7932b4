"""Bulk load of the agent's-work read models and report projections for the read benchmark.

After :mod:`bench.load` filled customers and the timeline, this fills what the work projection
and the timeline insert keep in production: profiles (a third of the customers with a birth date,
an owner among 40 agents, tags and a company), requests (one per 10 customers, over the
timeline's span, most resolved), the last contact (and owner) per customer and the daily activity counts,
the last two aggregated from the loaded timeline with the projection's own expressions.
"""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta
from typing import Any

import psycopg

from services.projections.timeline.reports import ANSWERED, TALK_S

TABLES = ("customer_profiles", "work_requests", "customer_contacts", "activity_daily")
AGENTS = 40
TAGS = ("vip", "опт", "розница", "партнёр", "новый")
COMPANIES = ("ООО Ромашка", "ИП Петров", "АО Вектор", "ООО Север", "ЗАО Прогресс")
PRIORITIES = (("low", 72), ("normal", 24), ("high", 8), ("urgent", 4))


def load_work(conn: psycopg.Connection[Any], ids: list[str], start: Any, span: timedelta, seed: int = 11) -> None:
    """Fill the work read models and report projections (a fresh database, after the timeline)."""
    rng = random.Random(seed)
    with conn.cursor() as cur:
        with cur.copy("COPY customer_profiles (customer_id, birth_date, company, tags, owner, updated_at,"
                      " updated_by) FROM STDIN") as copy:
            for i, cid in enumerate(ids):
                if i % 3 == 0:
                    born = date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 55))
                    copy.write_row((cid, born, COMPANIES[i % len(COMPANIES)], [TAGS[i % len(TAGS)]],
                                    f"emp-{i % AGENTS}", start, "bench"))
        with cur.copy("COPY work_requests (request_id, customer_id, subject, priority, status, assignee,"
                      " opened_by, channel, opened_at, due_at, first_response_at, resolved_at, updated_at)"
                      " FROM STDIN") as copy:
            for n in range(len(ids) // 10):
                copy.write_row(_request(rng, ids, n, start, span))
        cur.execute("INSERT INTO customer_contacts (customer_id, last_contact_at)"
                    " SELECT customer_id, max(occurred_at) FROM timeline GROUP BY customer_id")
        cur.execute("UPDATE customer_contacts c SET owner = p.owner FROM customer_profiles p"
                    " WHERE p.customer_id = c.customer_id AND p.owner IS NOT NULL")
        cur.execute(
            "INSERT INTO activity_daily (day, channel, agent_id, interactions, inbound, outbound, calls_answered,"
            " calls_missed, talk_time_s) SELECT (occurred_at AT TIME ZONE 'UTC')::date, channel,"
            " coalesce(agent_id, ''), count(*), count(*) FILTER (WHERE direction = 'inbound'),"
            f" count(*) FILTER (WHERE direction = 'outbound'), count(*) FILTER (WHERE {ANSWERED}),"
            f" count(*) FILTER (WHERE channel = 'call' AND NOT {ANSWERED}),"
            f" coalesce(sum({TALK_S}) FILTER (WHERE channel = 'call'), 0) FROM timeline GROUP BY 1, 2, 3")
    conn.commit()


def _request(rng: random.Random, ids: list[str], n: int, start: Any, span: timedelta) -> tuple[Any, ...]:
    opened = start + span * rng.random()
    priority, hours = PRIORITIES[n % len(PRIORITIES)]
    resolved = opened + timedelta(hours=rng.expovariate(1 / hours)) if n % 10 else None
    status = "open" if resolved is None else ("closed" if n % 3 else "resolved")
    first = opened + timedelta(minutes=rng.randrange(1, 240))
    return (uuid.UUID(int=rng.getrandbits(128), version=4), ids[rng.randrange(len(ids))], f"Заявка №{n}",
            priority, status, f"emp-{n % AGENTS}", "bench", ("call", "email", "chat")[n % 3], opened,
            opened + timedelta(hours=hours), first, resolved, resolved or opened)
