"""All configuration, from the environment (``KARTOTEKA_*`` plus the two standard names)."""

from __future__ import annotations

import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from kartoteka.exits import UNREACHABLE, Refusal


class Settings(BaseSettings):
    """One settings object per process; built once in the composition root."""

    model_config = SettingsConfigDict(env_prefix="KARTOTEKA_", extra="ignore")

    database_url: str | None = Field(
        None, validation_alias=AliasChoices("DATABASE_URL", "KARTOTEKA_DATABASE_URL")
    )
    kafka_bootstrap_servers: str | None = Field(
        None,
        validation_alias=AliasChoices(
            "KAFKA_BOOTSTRAP_SERVERS", "KARTOTEKA_KAFKA_BOOTSTRAP_SERVERS"
        ),
    )
    data_dir: Path = Path(".kartoteka")
    env: Literal["development", "production"] = "development"
    host: str = "127.0.0.1"
    api_port: int = 8000
    ingest_port: int = 8001
    broker_port: int = 9092
    topic_prefix: str = ""
    partitions: int = Field(4, ge=1, le=64)
    token_secret: SecretStr | None = None
    # Personal data (issue 16): the key that wraps every data key (base64 of 32 bytes); unset,
    # one is generated into the data dir. Retention in days per channel (unset: kept).
    master_key: SecretStr | None = None
    retention_days_call: int | None = Field(None, ge=1)
    retention_days_email: int | None = Field(None, ge=1)
    retention_days_chat: int | None = Field(None, ge=1)
    retention_days_sms: int | None = Field(None, ge=1)
    retention_days_web_form: int | None = Field(None, ge=1)
    retention_interval_s: float = Field(3600.0, gt=0)
    token_ttl_s: int = 30 * 24 * 3600
    # The password of the api's database login kartoteka_api_login (none with trust auth).
    api_db_password: str | None = None
    audit_fail_closed: bool = True
    batch_max_records: int = 2000
    # The card + timeline projection: its set-based batches cost PostgreSQL less per record
    # the larger they are (5,000 against 2,000: a quarter less in a replay).
    timeline_batch_max_records: int = Field(5000, ge=1)
    # The card + timeline worker runs this many processes, each owning a share of customers.v1's
    # partitions, while it is at least timeline_share_backlog records behind (a rebuild, a
    # catch-up): one Python process decodes on one core. Caught up, it runs one (cheaper).
    timeline_processes: int = Field(2, ge=1, le=64)
    timeline_share_backlog: int = Field(20_000, ge=0)
    # CPU priority (README "What `make run` starts"), as os.nice increments over the parent: the
    # workers on the path to the timeline, and those off it (WorkerSpec.background), so that
    # under a backlog the cores go to the path first.
    worker_nice: int = Field(0, ge=0, le=19)
    background_nice: int = Field(10, ge=0, le=19)
    log_level: str = "INFO"
    # The pages show dates in this zone (an agent reads local times during a call).
    pages_timezone: str = "Europe/Moscow"
    db_pool_size: int = 4
    # The embedded PostgreSQL's shared_buffers in MB, or "auto": a quarter of the memory,
    # 128MB to 8GB (kartoteka.embedded.shared_buffers_mb). Ignored with DATABASE_URL.
    pg_shared_buffers: str = Field("auto", pattern=r"^(auto|[0-9]+)$")
    # uvicorn worker processes per HTTP service; each has its own pool and producer.
    http_workers: int = Field(2, ge=1, le=32)
    # Single deliveries (one interaction per POST) wait at most this long for as many others
    # as the last flushes carried before their shared flush starts: flushes of 7.7 instead of
    # 3.3 cost ingest 40% less CPU per delivery (bench/README.md, "Single deliveries"). A lone
    # delivery never waits. 0: every flush starts on the event loop's next turn.
    ingest_linger_ms: float = Field(2.0, ge=0, le=50)
    # Identity guards (issue 3): values never used to match, and how many customers one
    # identifier may join within a window before links are only flagged.
    identity_blocked: str = ""  # comma-separated keys, e.g. "phone:+74951234567,email:info@shop.ru"
    identity_max_merges: int = Field(2, ge=0)
    identity_merge_window_days: int = Field(30, ge=1)
    # Possible duplicates (issue 20): the lowest match probability proposed for review.
    duplicates_min_score: float = Field(0.9, gt=0, lt=1)
    # Above this probability the finder merges without review (through the outbox); None = never.
    duplicates_auto_merge_score: float | None = Field(None, gt=0.99, lt=1)
    # The finder waits this long after a change for more before scoring them together: a
    # proposal can wait a few seconds, and each scoring costs ~0.2 s of CPU however few
    # records it holds (splink builds its SQL each time), 0.4 core at 200/s without.
    duplicates_gather_ms: int = Field(3000, ge=0, le=60_000)
    # Channel-native formats (issue 13; README "Channels in their own formats").
    own_email_domains: str = ""  # comma-separated: mail from these is outbound
    email_max_bytes: int = Field(25 * 1024 * 1024, ge=1024)
    pbx_timezone: str = "UTC"  # IANA name of the PBX's clock in cdr-csv
    pbx_extension_pattern: str = r"^\d{2,5}$"  # internal extensions
    web_forms: str = ""  # JSON {"<form id>": {"phone": "<field>", ...}} over name/phone/email/message
    web_form_honeypot: str = "website"
    web_form_rate_per_minute: int = Field(10, ge=1)  # per client address and ingest process
    telegram_secret_token: SecretStr | None = None  # X-Telegram-Bot-Api-Secret-Token, when set
    # The agent's work (issue 14): call outcomes a note may carry, and the hours a request of
    # each priority may stay unresolved (events/work_rules.py holds the defaults).
    work_outcomes: str = "resolved,callback,escalated,no_answer,sale,complaint"
    work_sla_hours: str = "urgent=4,high=8,normal=24,low=72"
    # A false positive silences alerts of the same pattern (employee, kind) this many days.
    alert_suppression_days: float = Field(14.0, ge=0)
    # How often the anchor worker copies the signed audit chain head out of the database.
    anchor_every_s: float = Field(1.0, gt=0)
    # A signed checkpoint (also published to audit.checkpoints.v1) every this many chained rows.
    audit_checkpoint_rows: int = Field(1000, ge=1)
    # Operating (issue 19). The supervisor serves every process's metrics merged on this port
    # (kartoteka.metrics); a `serve`/`worker` run on its own serves its processes' when set.
    metrics_port: int = Field(8002, ge=1, le=65535)
    metrics_host: str | None = None  # default: host; 0.0.0.0 lets a Prometheus container scrape
    # A process that exits this many times within the window is a crash loop: the stack stops.
    crash_loop_restarts: int = Field(5, ge=2)
    crash_loop_window_s: float = Field(60.0, gt=0)
    # Detector thresholds overriding services/projections/detect/detectors/config.py, as a
    # JSON object of its field names, e.g. '{"breadth_threshold": 80}'.
    detectors: str = ""

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        # Every process and message names the same directory, wherever it was started from.
        return value.expanduser().resolve()

    @model_validator(mode="after")
    def _no_default_secret_in_production(self) -> Settings:
        if self.env == "production" and self.token_secret is None:
            raise ValueError("KARTOTEKA_TOKEN_SECRET must be set when KARTOTEKA_ENV=production")
        # Every process must unwrap the same data keys: one generated per data dir would not do
        # across containers, and it must be backed up apart from the database.
        if self.env == "production" and self.master_key is None:
            raise ValueError("KARTOTEKA_MASTER_KEY must be set when KARTOTEKA_ENV=production")
        return self

    def retention_days(self) -> dict[str, int]:
        """Channel -> days an interaction is kept, for the channels that have a limit."""
        days = {c: getattr(self, f"retention_days_{c}") for c in ("call", "email", "chat", "sms", "web_form")}
        return {c: d for c, d in days.items() if d is not None}

    @property
    def anchor_path(self) -> Path:
        """The append-only file of signed audit chain heads (events/audit/anchor.py)."""
        return self.data_dir / "audit" / "anchors.jsonl"

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"

    @property
    def bootstrap(self) -> str:
        if not self.kafka_bootstrap_servers:
            raise self._no_stack("KAFKA_BOOTSTRAP_SERVERS")
        return self.kafka_bootstrap_servers

    @property
    def dsn(self) -> str:
        if not self.database_url:
            raise self._no_stack("DATABASE_URL")
        return self.database_url

    def _no_stack(self, name: str) -> Refusal:
        return Refusal(UNREACHABLE, f"{name} is not set and no stack runs under {self.data_dir}: "
                                    f"start it with `make run`, or set {name}")

    @property
    def secret_file(self) -> Path | None:
        """Where the token secret is kept; None when KARTOTEKA_TOKEN_SECRET gives it."""
        return None if self.token_secret is not None else self.data_dir / "token_secret"

    @cached_property
    def secret(self) -> str:
        """The token secret: configured, or generated once into the data dir."""
        if self.token_secret is not None:
            return self.token_secret.get_secret_value()
        path = self.data_dir / "token_secret"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            candidate = path.with_suffix(".tmp")
            candidate.write_text(secrets.token_urlsafe(48))
            candidate.chmod(0o600)
            try:
                candidate.rename(path) if not path.exists() else candidate.unlink()
            except FileExistsError:
                candidate.unlink()
        return path.read_text().strip()
