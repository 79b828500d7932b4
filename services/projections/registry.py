"""Every worker ``kartoteka up`` runs, in start order: one line each.

The supervisor, ``kartoteka worker``, ``kartoteka rebuild`` and the tests iterate ``WORKERS``;
adding a worker is its package (a module ending in a ``WorkerSpec`` named ``WORKER``) and one
line here.
"""

from __future__ import annotations

from importlib import import_module

from services.projections.claims import ClaimingRunner, Claims
from services.projections.runner import Runner
from services.projections.spec import Context, Standalone, WorkerSpec

MODULES = (
    "services.projections.identity.worker",
    "services.projections.relay.worker",
    "services.projections.timeline.worker",
    "services.projections.audit.worker",
    "services.projections.anchor.worker",
    "services.projections.employees.worker",
    "services.projections.detect.worker",
    "services.projections.alerts.worker",
    "services.projections.work.worker",
    "services.projections.duplicates.worker",
    "services.projections.raw.worker",
    "services.projections.retention.worker",
)


def _load(module: str) -> WorkerSpec:
    spec = import_module(module).WORKER
    if not isinstance(spec, WorkerSpec):
        raise TypeError(f"{module}.WORKER is not a WorkerSpec")
    return spec


WORKERS: tuple[WorkerSpec, ...] = tuple(_load(m) for m in MODULES)


def names() -> tuple[str, ...]:
    return tuple(spec.name for spec in WORKERS)


def outbox_topics() -> tuple[str, ...]:
    """The topics workers send to: they write the outbox, the relay publishes it."""
    return tuple(sorted({t for spec in WORKERS if not spec.standalone for t in spec.produces}))


def spec_of(name: str) -> WorkerSpec:
    for spec in WORKERS:
        if spec.name == name:
            return spec
    raise ValueError(f"unknown worker {name!r}; one of {', '.join(names())}")


def runnable(spec: WorkerSpec, ctx: Context, share: tuple[int, int] = (0, 1),
             claims: Claims | None = None) -> Runner | Standalone:
    """The worker ready to ``run()`` (stopped by setting its ``stopping`` event).

    With ``claims`` it owns the partitions it claims among all processes of its kind;
    without, the fixed ``share`` (index, count) of them.
    """
    built = spec.build(ctx)
    if spec.standalone:
        return built  # type: ignore[no-any-return]
    if claims is not None:
        return ClaimingRunner(ctx.settings, spec, built, ctx.positions, ctx.status_file, claims=claims)
    return Runner(ctx.settings, spec, built, ctx.positions, ctx.status_file, share)
