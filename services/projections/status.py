"""Where a worker writes its status file (lag, processed, time), read by the supervisor and tests."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from kartoteka.settings import Settings


def status_file(settings: Settings, name: str) -> Path:
    folder = settings.data_dir / "run"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{settings.topic_prefix}{name}.status.json"


def write_status(path: Path, data: dict[str, Any]) -> None:
    """Replace the file at once, so a reader never sees half of it.

    The temporary name is the writer's own: two processes of one worker sharing a data dir
    (scale-out on one machine) each replace the file whole, the last one wins.
    """
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data))
    tmp.replace(path)


def read_status(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())  # type: ignore[no-any-return]
    except (OSError, ValueError):
        return None


def consumer_lag(consumer: KafkaConsumer, done: dict[TopicPartition, int]) -> int:
    """Records on the broker not yet applied, from the fetch highwater (exact on Tansu)."""
    assigned = list(consumer.assignment())
    unknown = [tp for tp in assigned if consumer.highwater(tp) is None]
    ends = consumer.end_offsets(unknown) if unknown else {}
    total = 0
    for tp in assigned:
        end = consumer.highwater(tp)
        end = ends.get(tp, 0) if end is None else end
        total += max(0, end - 1 - done.get(tp, -1))
    return total
