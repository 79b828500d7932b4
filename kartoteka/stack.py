"""``$KARTOTEKA_DATA_DIR/run/stack.json``: what ``kartoteka up`` started, for every other command.

``kartoteka up`` writes it once everything is ready and removes it when it stops. Any other
command run with the same data dir reads it to find the database, the broker and the ports;
settings given in the environment still win. A file whose supervisor is gone is stale.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kartoteka.exits import UNREACHABLE, Refusal
from kartoteka.lifetime import alive
from kartoteka.settings import Settings

FILE = "stack.json"


@dataclass(frozen=True)
class Stack:
    """A running stack as its supervisor described it."""

    pid: int
    data_dir: str
    database_url: str
    kafka_bootstrap_servers: str
    host: str
    api_port: int
    ingest_port: int
    metrics_port: int | None = None
    topic_prefix: str = ""
    embedded: dict[str, bool] = field(default_factory=dict)
    children: dict[str, int] = field(default_factory=dict)
    started_at: str = ""

    @property
    def api(self) -> str:
        return f"http://{self.host}:{self.api_port}"

    @property
    def ingest(self) -> str:
        return f"http://{self.host}:{self.ingest_port}"


def path(data_dir: Path) -> Path:
    return data_dir.resolve() / "run" / FILE


def write(stack: Stack) -> Path:
    """Atomically, readable by the owner only (it holds the database URL)."""
    target = path(Path(stack.data_dir))
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(asdict(stack), out, indent=2)
    tmp.replace(target)
    return target


def remove(data_dir: Path, pid: int) -> None:
    """Remove the file if it is ours (a second ``up`` refused at start must not remove it)."""
    found = read(data_dir)
    if found is not None and found.pid == pid:
        with contextlib.suppress(FileNotFoundError):
            path(data_dir).unlink()


def read(data_dir: Path) -> Stack | None:
    """The stack described in the data dir, whether or not it still runs; None if none."""
    try:
        data: dict[str, Any] = json.loads(path(data_dir).read_text())
        return Stack(**data)
    except (OSError, ValueError, TypeError):
        return None


def running(data_dir: Path) -> Stack | None:
    """The stack in the data dir if its supervisor is alive."""
    found = read(data_dir)
    return found if found is not None and alive(found.pid) else None


def discover(settings: Settings) -> Settings:
    """``settings`` completed from the running stack; what the environment set wins."""
    found = running(settings.data_dir)
    if found is None:
        return settings
    given = settings.model_fields_set
    update = {
        name: getattr(found, name)
        for name in ("database_url", "kafka_bootstrap_servers", "host", "api_port",
                     "ingest_port", "topic_prefix")
        if name not in given and getattr(settings, name) in (None, Settings.model_fields[name].default)
    }
    return settings.model_copy(update=update)


def needed(settings: Settings, what: str = "this command") -> Settings:
    """``settings`` with a database and a broker, or a one-line refusal saying what to run."""
    if settings.database_url and settings.kafka_bootstrap_servers:
        return settings
    missing = " and ".join(
        name for name, value in (("DATABASE_URL", settings.database_url),
                                 ("KAFKA_BOOTSTRAP_SERVERS", settings.kafka_bootstrap_servers))
        if not value
    )
    raise Refusal(
        UNREACHABLE,
        f"{what} needs the running stack: none runs under {settings.data_dir.resolve()} "
        f"(start it with `make run`, or set {missing}, or KARTOTEKA_DATA_DIR to its data dir)",
    )
