"""The finder's store on the real PostgreSQL: observations to records to proposals, and training."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bench.duplicates.russian import dataset
from events.ids import uuid5_text
from kartoteka import db
from services.projections.duplicates.observe import Changes
from services.projections.duplicates.store import DuplicateStore
from services.projections.duplicates.training import train_and_store
from services.projections.duplicates.worker import DuplicateFinder
from services.projections.tracking import Positions

pytestmark = pytest.mark.integration
T0 = datetime(2026, 5, 1, tzinfo=UTC)


def _changes(rows: int, seed: int) -> Changes:
    """One customer per generated row (no deterministic step), observed as a web form would be."""
    changes = Changes()
    for n, row in enumerate(dataset(rows, seed)):
        customer, source = uuid5_text(f"c:{seed}:{n}"), uuid5_text(f"i:{seed}:{n}")
        for attribute, value in (("name", row.name), ("phone", row.phone), ("email", row.email),
                                 ("birth_date", row.birth_date), ("address", row.address)):
            if value:
                changes.observations.append((source, attribute, value, customer, "web_form",
                                             T0 + timedelta(minutes=n)))
    return changes


@pytest.fixture
def store(settings):
    datastore = db.datastore(settings.dsn, pool_size=2)
    yield DuplicateStore(datastore, Positions(datastore))
    datastore.close()


def test_training_stores_a_model_the_finder_then_scores_with(store):
    finder = DuplicateFinder(store, 0.9)
    store.apply(_changes(300, seed=5), [], finder.score)
    with store.datastore.get_connection() as conn:
        proposed = conn.execute("SELECT count(*) AS n FROM duplicate_proposals").fetchone()["n"]
    assert proposed > 0, "the shipped model proposes generated duplicates"
    lines: list[str] = []
    model_id = train_and_store(store, lines.append)
    assert model_id is not None and any("stored" in line for line in lines)
    stored = store.latest_model()
    assert stored is not None and stored[0] == model_id
    assert finder._current_model() is not None
    fresh = DuplicateFinder(store, 0.9)
    assert fresh._current_model() == stored[1] and fresh.model_id == model_id


def test_too_few_customers_keep_the_shipped_model(store):
    store.apply(_changes(20, seed=6), [], DuplicateFinder(store, 0.9).score)
    lines: list[str] = []
    assert train_and_store(store, lines.append) is None
    assert store.latest_model() is None and "too few" in lines[-1]
