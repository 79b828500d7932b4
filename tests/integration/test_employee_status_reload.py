"""The departed-employee check reloads its table from the real PostgreSQL ahead of time, beside
the requests, and never answers from a table older than its time to live."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from kartoteka.auth import Principal, Role
from kartoteka.http import ApiError, EmployeeStatuses

pytestmark = pytest.mark.integration
WHO = Principal("emp-leaving", Role.agent)


def _leaves(dsn: str) -> None:
    at = datetime.now(UTC) - timedelta(minutes=1)
    with psycopg.connect(dsn) as conn:
        conn.execute("INSERT INTO employees (employee_id, status, effective_at, changed_at, changed_by)"
                     " VALUES (%s, 'left', %s, %s, 'hr')", (WHO.subject, at, at))


async def _loaded_then_departed(dsn: str, age_s: float) -> EmployeeStatuses:
    """A table loaded by a first request, the employee leaving since, the table ``age_s`` old."""
    cache = EmployeeStatuses(lambda: dsn, ttl_s=10.0)
    await cache(WHO)
    _leaves(dsn)
    cache._loaded_at = time.monotonic() - age_s
    return cache


async def _refused(cache: EmployeeStatuses) -> int:
    with pytest.raises(ApiError) as refused:
        await cache(WHO)
    return refused.value.status


def test_a_busy_process_reloads_beside_its_requests_and_then_refuses_the_departed(settings) -> None:
    async def scenario() -> None:
        cache = await _loaded_then_departed(settings.dsn, 6.0)  # past half its time to live only
        try:
            await cache(WHO)  # answered from the table it has, without waiting for the database
            reload = cache._ahead
            assert reload is not None and not reload.done()
            await reload
            assert await _refused(cache) == 403
        finally:
            await cache.close()

    asyncio.run(scenario())


def test_a_table_past_its_time_to_live_is_reloaded_before_the_answer(settings) -> None:
    async def scenario() -> None:
        cache = await _loaded_then_departed(settings.dsn, 11.0)  # idle for longer than its time to live
        try:
            assert await _refused(cache) == 403
        finally:
            await cache.close()

    asyncio.run(scenario())
