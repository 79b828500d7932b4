"""The hot queries behind reads and their audit can be answered from indexes (real PostgreSQL).

Sequential scans are switched off so the planner shows what the indexes allow on these tiny
tables; at 1M customers the alternatives cost seconds (bench/README.md). No timing here.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from events.names import folded, latin
from services.api.queries.customers import _BY_NAME, MIN_NAME_SIMILARITY
from services.projections.detect.context import KNOWN

pytestmark = pytest.mark.integration


def _plan(dsn: str, query: str, params: dict[str, object]) -> str:
    with psycopg.connect(dsn) as conn:
        conn.execute("SET enable_seqscan = off")
        return "\n".join(r[0] for r in conn.execute(f"EXPLAIN {query}", params))  # noqa: S608


def test_a_names_customers_come_from_the_index_alone(settings) -> None:
    q = "Зоя Котова"
    plan = _plan(settings.dsn, _BY_NAME, {"q": folded(q), "lat": latin(q), "k": 20, "over": 20,
                                         "min": MIN_NAME_SIMILARITY, "limit": 10})
    assert "Index Only Scan using customers_name_root_ios on customers" in plan, plan


def test_the_detectors_find_an_employees_requests_and_tasks_by_index(settings) -> None:
    until = datetime.now(UTC)
    plan = _plan(settings.dsn, KNOWN, {"agents": ["emp-1"], "me": "emp-1", "since": until - timedelta(days=45),
                                       "until": until})
    for table in ("timeline", "customer_profiles", "work_requests", "work_tasks"):
        assert f"Seq Scan on {table}" not in plan, plan
