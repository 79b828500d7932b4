"""Duplicate finder: customers.v1, identity and work commands -> matching records and proposals."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from importlib import resources
from typing import Any

from eventsourcing.persistence import Tracking

from events import topics
from services.projections.duplicates.attributes import MatchRecord
from services.projections.duplicates.observe import changes
from services.projections.duplicates.pairs import ScoredPair
from services.projections.duplicates.store import DuplicateStore
from services.projections.records import Decoded
from services.projections.spec import IDLE_FETCH_WAIT_MS, WorkerSpec
from services.projections.timeline.direct_decode import Digest, digest

log = logging.getLogger(__name__)
MODEL_CHECK_S = 30.0


def default_model() -> dict[str, Any]:
    """Parameters shipped with the code (EM-trained on the bench's generated customers), used
    until ``kartoteka train-duplicates`` stores a model trained on this deployment's own."""
    text = resources.files("services.projections.duplicates").joinpath("default_model.json").read_text()
    return json.loads(text)  # type: ignore[no-any-return]


class DuplicateFinder:
    """Keeps each customer's matching record and proposes the pairs the model scores high."""

    def __init__(self, store: DuplicateStore, min_score: float, gather_ms: int = 0) -> None:
        self.store = store
        self.min_score = min_score
        # Scoring costs mostly per batch (a DuckDB, a splink linker and its SQL each), so the
        # runner gathers records this long into one batch (services/projections/batching.py).
        self.gather_ms = gather_ms
        self.model: dict[str, Any] | None = None
        self.model_id: int | None = None
        self.checked_at = 0.0

    def _current_model(self) -> dict[str, Any]:
        from services.projections.duplicates import model  # splink: loaded by this worker only

        if self.model is None or time.monotonic() - self.checked_at > MODEL_CHECK_S:
            self.checked_at = time.monotonic()
            stored = self.store.latest_model()
            shipped = default_model()
            if stored is not None and model.comparisons_of(stored[1]) != model.comparisons_of(shipped):
                if self.model is None:  # said once per start; `kartoteka train-duplicates` fixes it
                    log.warning("stored duplicate model predates the current comparisons; using the"
                                " shipped one until it is retrained", extra={"model_id": stored[0]})
                stored = None
            if stored is None and self.model is None:
                self.model = shipped
            elif stored is not None and stored[0] != self.model_id:
                self.model_id, self.model = stored
                log.info("duplicate model loaded", extra={"model_id": self.model_id})
        assert self.model is not None
        return self.model

    def score(self, changed: Sequence[MatchRecord], candidates: Sequence[MatchRecord],
              min_score: float | None) -> list[ScoredPair]:
        """Pairs among the changed records and between them and their candidates."""
        from services.projections.duplicates import model  # splink: loaded by this worker only

        return model.score_new(changed, candidates, self._current_model(),
                               self.min_score if min_score is None else min_score)

    def apply(self, items: list[Decoded], trackings: list[Tracking]) -> None:
        payloads = [d.digest if isinstance(d.digest, Digest) else d.payload for d in items]
        self.store.apply(changes(payloads), trackings, self.score)

    def digest(self, raw: bytes | None) -> Digest | None:
        """The card's own decoding of its common records: the contract's models for each
        registration, link and attribution were most of this worker's CPU in a drain."""
        return digest(raw)


WORKER = WorkerSpec(
    name="duplicates", consumes=(topics.CUSTOMERS, topics.IDENTITY_COMMANDS, topics.WORK_COMMANDS),
    produces=(topics.IDENTITY_COMMANDS,),  # only with KARTOTEKA_DUPLICATES_AUTO_MERGE_SCORE set
    build=lambda ctx: DuplicateFinder(
        DuplicateStore(ctx.datastore, ctx.positions, ctx.settings.duplicates_auto_merge_score),
        ctx.settings.duplicates_min_score, ctx.settings.duplicates_gather_ms),
    # Decisions (accepted, rejected) come from identity.commands.v1 too, so the tables refill from the logs.
    read_model=("match_attributes", "match_records", "match_blocks", "duplicate_proposals"),
    fetch_max_wait_ms=IDLE_FETCH_WAIT_MS,
    # Two customers of a pair arrive on any partitions: two processes each committing one
    # would not see the other's record, and the pair would never be proposed.
    singleton=True,
    background=True,
)
