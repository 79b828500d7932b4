"""What every command shares as an operator meets it: an expected failure is one line and an
exit code (kartoteka.exits), the running stack is found through stack.json, processes carry
names, and a service or worker run on its own can serve its metrics."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

import psycopg
from kafka.errors import KafkaConnectionError, KafkaTimeoutError, MetadataEmptyBrokerList
from pydantic import ValidationError

from kartoteka import exits, metrics, preflight
from kartoteka.auth import Role, mint
from kartoteka.exits import Refusal
from kartoteka.settings import Settings
from services.projections.detect.detectors import DetectorConfig
from services.projections.detect.detectors.config import with_overrides

SUPERVISED = "KARTOTEKA_SUPERVISED"  # set by the supervisor for its children
BROKER_DOWN = (MetadataEmptyBrokerList, KafkaConnectionError, KafkaTimeoutError)


def settings_or_refusal() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(p) for p in first.get("loc", ())) or "settings"
        raise Refusal(exits.USAGE, f"invalid setting {name.upper()}: {first.get('msg')}") from None


def guarded(command: Callable[[], int], settings: Settings | None = None) -> int:
    """Run ``command``; expected failures become one line on stderr and their exit code."""
    try:
        return command()
    except Refusal as exc:
        return refuse(exc)
    except KeyboardInterrupt:
        return refuse(Refusal(exits.INTERRUPTED, "interrupted"))
    except psycopg.OperationalError as exc:
        dsn = settings.database_url if settings else None
        where = preflight.redacted(dsn) if dsn else "DATABASE_URL"
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[-1]
        return refuse(Refusal(exits.UNREACHABLE, f"PostgreSQL at {where} cannot be reached "
                                                 f"({reason}): is the stack running (`make run`)?"))
    except BROKER_DOWN as exc:
        servers = (settings.kafka_bootstrap_servers if settings else None) or "KAFKA_BOOTSTRAP_SERVERS"
        return refuse(Refusal(exits.UNREACHABLE, f"Kafka broker {servers} cannot be reached "
                                                 f"({type(exc).__name__}): is the stack running "
                                                 "(`make run`)?"))


def refuse(refusal: Refusal) -> int:
    print(f"kartoteka: {refusal.message}", file=sys.stderr, flush=True)
    return refusal.code


def name_process(title: str) -> None:
    """``ps`` and the metrics' ``process`` label show ``title`` (setproctitle)."""
    import setproctitle

    setproctitle.setproctitle(title)


def serve_own_metrics(settings: Settings, service: str) -> None:
    """A ``serve`` or ``worker`` started on its own (a compose container) serves its processes'
    metrics when ``KARTOTEKA_METRICS_PORT`` is set; under the supervisor the supervisor does.
    The api's also shows the audit's figures from the database (once per stack)."""
    if os.environ.get(SUPERVISED) or "metrics_port" not in settings.model_fields_set:
        return
    folder = metrics.shared_dir()
    if folder is not None:
        metrics.reset_dir(folder)
    me = os.getpid()
    extra = []
    if service == "api":
        from services.api.health_metrics import AuditCollector

        extra.append(AuditCollector(lambda: settings.dsn))
    metrics.serve(metrics.registry(lambda: metrics.descendants(me), extra),
                  settings.metrics_host or settings.host, settings.metrics_port)


def token(settings: Settings, args: argparse.Namespace) -> int:
    """Mint with the secret the running api uses; never make up a new one unasked."""
    secret_file = settings.secret_file
    if secret_file is not None and not secret_file.exists() and not args.init:
        raise Refusal(exits.NO_SECRET, f"no token secret at {secret_file}: run this where `make run` "
                      "runs (or set KARTOTEKA_DATA_DIR to its data dir), or pass --init to create one")
    secret = settings.secret
    used = "KARTOTEKA_TOKEN_SECRET" if secret_file is None else str(secret_file)
    print(f"kartoteka: signed with the secret in {used}", file=sys.stderr)
    print(mint(secret, args.subject, Role(args.role), args.ttl or settings.token_ttl_s))
    return 0


def add_token_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--subject", required=True, help="employee or channel id")
    parser.add_argument("--role", required=True, choices=[r.value for r in Role])
    parser.add_argument("--ttl", type=int, default=None, help="lifetime in seconds")
    parser.add_argument("--init", action="store_true",
                        help="create the data dir's token secret if there is none yet")


def detector_config(settings: Settings) -> DetectorConfig:
    """The detector thresholds: the documented defaults with ``KARTOTEKA_DETECTORS`` over them."""
    try:
        return with_overrides(settings.detectors)
    except ValueError as exc:
        if isinstance(exc, ValidationError):
            first = exc.errors()[0]
            reason = f"at {'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
        else:
            reason = str(exc)
        raise Refusal(exits.USAGE, f"KARTOTEKA_DETECTORS is not valid ({reason}): a JSON object "
                      "of the names in services/projections/detect/detectors/config.py") from None
