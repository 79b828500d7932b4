"""Where a worker writes its status file (lag, processed, time), read by the supervisor and tests."""

from __future__ import annotations

from pathlib import Path

from kartoteka.settings import Settings


def status_file(settings: Settings, name: str) -> Path:
    folder = settings.data_dir / "run"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{settings.topic_prefix}{name}.status.json"
