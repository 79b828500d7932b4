"""The duplicate finder scores what it gathered over a few seconds as one batch: nothing is lost."""

from __future__ import annotations

import time

import psycopg
import pytest

from tests.integration.test_duplicates import _one_digit_off
from tests.support.data import interaction, unique_phone
from tests.support.workers import running, wait_until

pytestmark = pytest.mark.integration
WORKERS = ("resolver", "relay", "timeline", "duplicates")
PEOPLE = [("Ирина", "Петрова", "1981-04-12", "г. Тверь, ул. Мира, д. 5"),
          ("Олег", "Сидоров", "1975-09-30", "Казань, ул. Лесная, д. 12"),
          ("Марина", "Круглова", "1969-12-01", "Тверь, ул. Садовая, д. 7, кв. 3"),
          ("Григорий", "Лебедев", "1990-02-17", "Самара, ул. Победы, д. 40, кв. 8")]


def _twice(first: str, second: str, born: str, address: str) -> list[dict]:
    """One person twice: a call, then a web form with a mistyped number and the name reversed."""
    phone = unique_phone()
    return [interaction(channel="call", customer={"phone": phone, "name": f"{first} {second}"},
                        details={"birth_date": born, "address": address}),
            interaction(channel="web_form", customer={"phone": _one_digit_off(phone), "name": f"{second} {first}"},
                        details={"birth_date": born, "address": address.upper()})]


def _customers(dsn: str, ids: list[str]) -> dict[str, str]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT interaction_id::text, customer_id::text FROM identity_attributions"
                            " WHERE interaction_id = ANY(%s::uuid[])", (ids,)).fetchall()
    return dict(rows)


def _proposed(dsn: str) -> set[frozenset[str]]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT customer_a::text, customer_b::text FROM duplicate_proposals").fetchall()
    return {frozenset(r) for r in rows}


def test_pairs_arriving_together_are_all_proposed_from_one_gathered_batch(settings, ingest, auth):
    settings = settings.model_copy(update={"duplicates_gather_ms": 3000})
    items = [item for person in PEOPLE for item in _twice(*person)]
    with running(settings, WORKERS):
        answer = ingest.post("/v1/interactions/batch", json={"items": items}, headers=auth("channel", "web"))
        assert answer.status_code == 202, answer.text
        ids = [r["id"] for r in answer.json()["results"]]
        owners = wait_until(lambda: found if len(found := _customers(settings.dsn, ids)) == len(ids) else None,
                            message="every interaction attributed")
        pairs = {frozenset((owners[a], owners[b])) for a, b in zip(ids[::2], ids[1::2], strict=True)}
        assert all(len(pair) == 2 for pair in pairs), "a mistyped number is not an identical identifier"
        wait_until(lambda: pairs <= _proposed(settings.dsn), timeout_s=60, message="every pair proposed")


def _with_customers(dsn: str) -> set[str]:
    with psycopg.connect(dsn) as conn:
        return {r[0] for r in conn.execute("SELECT customer_id::text FROM match_records").fetchall()}


def test_changes_arriving_over_two_seconds_are_scored_in_one_or_two_batches_not_one_per_fetch(settings, ingest, auth):
    settings = settings.model_copy(update={"duplicates_gather_ms": 10_000})
    with running(settings, WORKERS) as workers:
        finder = workers["duplicates"].projection
        batches: list[int] = []
        apply = finder.apply
        finder.apply = lambda items, trackings: (batches.append(len(items)) if items else None,
                                                 apply(items, trackings))[1]
        ids = []
        for n in range(8):  # one every 0.25 s: without gathering, each 0.5 s fetch is a batch
            answer = ingest.post("/v1/interactions", json=interaction(customer={"phone": unique_phone(),
                                 "name": f"Анна Гатерова{n}"}), headers=auth("channel", "tel"))
            assert answer.status_code == 202, answer.text
            ids.append(answer.json()["id"])
            time.sleep(0.25)
        owners = wait_until(lambda: found if len(found := _customers(settings.dsn, ids)) == len(ids) else None,
                            message="every interaction attributed")
        wait_until(lambda: set(owners.values()) <= _with_customers(settings.dsn), timeout_s=60,
                   message="every customer's matching record written")
        assert sum(batches) >= len(ids) and 1 <= len(batches) <= 2, batches
