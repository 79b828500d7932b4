"""``kartoteka train-duplicates``: EM-train the model on this deployment's own customers and store it."""

from __future__ import annotations

import time
from collections.abc import Callable

from services.projections.duplicates import model
from services.projections.duplicates.store import DuplicateStore

MIN_CUSTOMERS = 200  # fewer leaves EM too few agreeing pairs to learn from


def train_and_store(store: DuplicateStore, progress: Callable[[str], None]) -> int | None:
    """The stored model's id, or None when there are too few customers to learn from."""
    started = time.monotonic()
    records = store.all_records()
    progress(f"{len(records):,} matching records loaded")
    if len(records) < MIN_CUSTOMERS:
        progress(f"too few customers to train on (at least {MIN_CUSTOMERS}); the shipped model stays")
        return None
    progress("training (u from random pairs, then EM on two blockings) ...")
    params = model.train(records)
    model_id = store.save_model(params, len(records))
    progress(f"model {model_id} stored in {time.monotonic() - started:.1f}s; the finder loads it within a minute")
    return model_id
