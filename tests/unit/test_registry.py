"""The worker registry is the one list the supervisor, the CLI, rebuild and the tests read."""

from __future__ import annotations

import pytest

from events import topics
from kartoteka.entrypoints import cli, supervisor
from services.projections import registry
from services.projections.rebuild import feeders_of


def test_every_worker_has_a_unique_name_and_contract_topics() -> None:
    names = registry.names()
    assert len(names) == len(set(names))
    for spec in registry.WORKERS:
        assert set(spec.consumes) | set(spec.produces) | {spec.dead_letter} <= set(topics.ALL), spec.name
        assert spec.standalone or spec.consumes, f"{spec.name} is run by the runner but reads nothing"


def test_the_supervisor_and_the_cli_offer_exactly_the_registered_workers() -> None:
    assert registry.names() == supervisor.WORKERS
    choices = next(a for a in cli.parser()._subparsers._group_actions[0].choices["worker"]._actions  # noqa: SLF001
                   if a.dest == "name").choices
    assert list(choices) == list(registry.names())


def test_the_card_and_timeline_are_fed_by_the_relay_and_the_trails_of_truth_own_no_read_model() -> None:
    assert [f.name for f in feeders_of(registry.spec_of("timeline"))] == ["relay"]
    assert feeders_of(registry.spec_of("employees")) == []
    assert registry.spec_of("audit").read_model == ()
    assert registry.spec_of("resolver").read_model == ()


def test_an_unknown_worker_name_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match="resolver"):
        registry.spec_of("nope")


def test_a_rebuild_refills_the_models_a_worker_consults_before_the_worker() -> None:
    from services.projections.rebuild import stages

    rounds = [[s.name for s in stage] for stage in stages([s for s in registry.WORKERS if s.read_model])]
    detect_round = next(i for i, names in enumerate(rounds) if "detect" in names)
    for consulted in registry.spec_of("detect").after:
        assert any(consulted in names for names in rounds[:detect_round]), rounds
