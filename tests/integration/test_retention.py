"""Retention on the real stack: expired interactions of a channel leave the timeline and lose
their keys (so a rebuild does not bring them back); a legal hold keeps a customer's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from kartoteka import db
from services.projections.rebuild import rebuild
from services.projections.retention.worker import Retention
from tests.support.data import interaction, unique_phone
from tests.support.work import WORK_WORKERS
from tests.support.workers import running, wait_until

pytestmark = pytest.mark.integration


def _timeline(api, auth, cid: str) -> list[str]:
    return [i["body"] for i in api.get(f"/v1/customers/{cid}/timeline", headers=auth("agent", "a")).json()["items"]]


def test_retention_removes_expired_calls_and_their_keys_but_not_other_channels_or_held_customers(
        settings, ingest, api, auth):
    now = datetime.now(UTC)
    old, recent = (now - timedelta(days=40)).isoformat(), (now - timedelta(days=1)).isoformat()
    free, held = unique_phone(), unique_phone()
    with running(settings, WORK_WORKERS):
        items = [interaction(customer={"phone": free}, occurred_at=old, body="старый звонок"),
                 interaction(customer={"phone": free}, occurred_at=recent, body="новый звонок"),
                 interaction(channel="email", customer={"phone": free}, occurred_at=old, body="старое письмо"),
                 interaction(customer={"phone": held}, occurred_at=old, body="под арестом")]
        ids = [ingest.post("/v1/interactions", json=i, headers=auth("channel", "t")).json()["id"] for i in items]
        found = {p: wait_until(lambda p=p: api.get("/v1/customers", params={"q": p}, headers=auth("agent", "a"))
                               .json()["items"], message="found")[0]["id"] for p in (free, held)}
        wait_until(lambda: len(_timeline(api, auth, found[free])) == 3, message="three shown")
        until = (now + timedelta(days=10)).isoformat()
        assert api.post(f"/v1/customers/{found[held]}/hold", json={"reason": "суд", "until": until},
                        headers=auth("admin", "adm")).status_code == 202
        wait_until(lambda: _held(settings.dsn, found[held]), message="held")
        datastore = db.datastore(settings.dsn, pool_size=1)
        try:
            policy = settings.model_copy(update={"retention_days_call": 30})
            assert Retention(policy, datastore).sweep(datetime.now(UTC)) == 1
        finally:
            datastore.close()
        assert sorted(_timeline(api, auth, found[free])) == ["новый звонок", "старое письмо"]
        assert _timeline(api, auth, found[held]) == ["под арестом"]
        assert _keys(settings.dsn, ids) == {f"i:{i}" for i in ids[1:]}
    rebuild(settings)
    assert sorted(_timeline(api, auth, found[free])) == ["новый звонок", "старое письмо"]


def _keys(dsn: str, ids: list[str]) -> set[str]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT subject FROM data_keys WHERE subject = ANY(%s)", ([f"i:{i}" for i in ids],))
        return {r[0] for r in rows}


def _held(dsn: str, cid: str) -> bool:
    with psycopg.connect(dsn) as conn:
        return conn.execute("SELECT 1 FROM legal_holds WHERE customer_id = %s", (cid,)).fetchone() is not None
