"""The ``kartoteka`` command: up, token, migrate, topics, serve, worker, rebuild, demo, ...

Exit codes are in kartoteka.exits (README: "Exit codes"); an expected failure is one line.
"""

from __future__ import annotations

import argparse
import sys

from kartoteka import allocator, exits, logs, stack
from kartoteka.entrypoints import operate
from kartoteka.settings import Settings
from services.projections import registry


def _up(settings: Settings, _: argparse.Namespace) -> int:
    from kartoteka.entrypoints.supervisor import Supervisor

    return Supervisor(settings).run()


def _demo(settings: Settings, args: argparse.Namespace) -> int:
    from kartoteka.entrypoints.demo.command import run

    return run(stack.needed(settings, "kartoteka demo"), args)


def _migrate(settings: Settings, _: argparse.Namespace) -> int:
    from kartoteka.migrate import migrate

    applied = migrate(settings.dsn)
    print(f"migrations applied: {', '.join(applied) or 'none pending'}")
    return 0


def _topics(settings: Settings, _: argparse.Namespace) -> int:
    from kartoteka.kafka import ensure_topics

    ensure_topics(settings)
    print("topics ready")
    return 0


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    from kartoteka.entrypoints.serving import serve

    return serve(args.service, settings)


def _worker(settings: Settings, args: argparse.Namespace) -> int:
    from kartoteka.entrypoints.worker import run_worker

    run_worker(args.name, settings)
    return 0


def _rebuild(settings: Settings, _: argparse.Namespace) -> int:
    from tqdm import tqdm

    from kartoteka.entrypoints.parts import stack_down
    from services.projections.rebuild import rebuild

    with stack_down(settings, "kartoteka rebuild") as ready, \
            tqdm(desc="rebuild", unit="record", dynamic_ncols=True) as bar:
        def progress(done: int, total: int, _elapsed: float) -> None:
            bar.total = max(total, done)
            bar.update(done - bar.n)

        report = rebuild(ready, progress)
    print(f"rebuilt {', '.join(report.rebuilt) or 'nothing'}: {report.records:,} records"
          f" in {report.seconds:.1f}s ({report.per_s:,.0f}/s), swapped in at once")
    for name, why in report.skipped.items():
        print(f"kept {name} as it is: {why}")
    return exits.OK if not report.skipped else exits.PARTIAL


def _train_duplicates(settings: Settings, _: argparse.Namespace) -> int:
    from kartoteka import db
    from services.projections.duplicates.store import DuplicateStore
    from services.projections.duplicates.training import train_and_store
    from services.projections.tracking import Positions

    datastore = db.datastore(settings.dsn, pool_size=1)
    try:
        found = train_and_store(DuplicateStore(datastore, Positions(datastore)), lambda line: print(line, flush=True))
    finally:
        datastore.close()
    return 0 if found is not None else 2


def _replay_detectors(settings: Settings, args: argparse.Namespace) -> int:
    from kartoteka import db
    from services.projections.detect.replay import replay, to_outbox

    settings = stack.needed(settings, "kartoteka replay-detectors")
    datastore = db.datastore(settings.dsn, pool_size=1)
    try:
        report = replay(datastore, None if args.dry_run else to_outbox(datastore),
                        employees=args.employee or None, kinds=args.kind or None,
                        cfg=operate.detector_config(settings),
                        progress=lambda text: print(text, end="", flush=True))
    finally:
        datastore.close()
    verb = "found" if args.dry_run else "recorded for alerts.v1 (the relay publishes them)"
    print(f"{report.alerts:,} alerts {verb} for {report.employees} employees"
          f" from {report.accesses:,} accesses")
    return 0


def _simulate_staff(settings: Settings, args: argparse.Namespace) -> int:
    from kartoteka.entrypoints.simulate.command import run

    return run(stack.needed(settings, "simulate-staff --produce") if args.produce else settings, args)


def _audit_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from kartoteka.entrypoints.simulate.command import add_arguments
    from kartoteka.entrypoints.simulate.scenarios import SCENARIOS

    replay = sub.add_parser("replay-detectors", help="re-run the detectors over the whole access "
                            "trail and record their alerts (after a detector change)")
    replay.add_argument("--employee", action="append", help="only this employee (repeatable)")
    replay.add_argument("--kind", action="append", choices=list(SCENARIOS), help="only this kind")
    replay.add_argument("--dry-run", action="store_true", help="count, do not produce")
    add_arguments(sub.add_parser(
        "simulate-staff", help="simulated agents (with injected insiders): detector figures, "
        "optionally written to Kafka"))


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="kartoteka", description="Event-sourced customer interaction hub"
    )
    sub = root.add_subparsers(dest="command", required=True)
    sub.add_parser(
        "up", help="run the whole system (embedded PostgreSQL and Tansu unless configured)"
    )
    operate.add_token_arguments(sub.add_parser(
        "token", help="print a signed bearer token (with the running stack's secret)"))
    sub.add_parser("migrate", help="apply database migrations")
    sub.add_parser("topics", help="create the Kafka topics")
    sub.add_parser("rebuild", help="rebuild every registered read model from its log "
                                   "(stop the workers first)")
    serve = sub.add_parser("serve", help="run one HTTP service")
    serve.add_argument("service", choices=["ingest", "api"])
    worker = sub.add_parser("worker", help="run one projection worker")
    worker.add_argument("name", choices=list(registry.names()))
    sub.add_parser("train-duplicates", help="EM-train the duplicate model on the stored customers")
    _audit_commands(sub)
    from kartoteka.entrypoints.demo.command import add_arguments as demo_arguments

    demo_arguments(sub.add_parser("demo", help="load a realistic sample (a week of a small "
                                  "contact center, two suspicious employees) into the running stack"))
    return root


COMMANDS = {
    "rebuild": _rebuild,
    "up": _up,
    "token": operate.token,
    "demo": _demo,
    "migrate": _migrate,
    "topics": _topics,
    "serve": _serve,
    "worker": _worker,
    "replay-detectors": _replay_detectors,
    "train-duplicates": _train_duplicates,
    "simulate-staff": _simulate_staff,
}


def main(argv: list[str] | None = None) -> int:
    allocator.limit_arenas()  # before any thread: every process of the stack starts here
    args = parser().parse_args(argv)
    return operate.guarded(lambda: _dispatch(args))


def _dispatch(args: argparse.Namespace) -> int:
    settings = operate.settings_or_refusal()
    if args.command in ("serve", "worker"):
        service = getattr(args, "service", None) or args.name
        operate.name_process(f"kartoteka {args.command} {service}" if args.command == "worker"
                             else f"kartoteka {service}")
        if args.command == "worker":  # a service's starts once its HTTP workers do (serving.py)
            operate.serve_own_metrics(settings, service)
    else:
        service = args.command
        if args.command != "up":
            settings = stack.discover(settings)  # the environment still wins
    if args.command != "token":
        logs.configure(service, settings.log_level)
    return operate.guarded(lambda: COMMANDS[args.command](settings, args), settings)


if __name__ == "__main__":
    sys.exit(main())
