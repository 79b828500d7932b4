"""The staff simulator: reproducible, realistic enough to be quiet, and scenarios that show."""

from __future__ import annotations

from kartoteka.entrypoints.simulate.measure import (
    ORDINARY,
    benchmark,
    detect,
    groups,
    score,
    simulate,
)
from kartoteka.entrypoints.simulate.scenarios import SCENARIOS


def test_the_same_seed_simulates_the_same_month() -> None:
    one, two = simulate(20, 14, ["breadth"], 3), simulate(20, 14, ["breadth"], 3)
    assert one.log.count() == two.log.count() > 5_000
    assert one.injections == two.injections


def test_ordinary_staff_raise_few_alerts() -> None:
    run = simulate(24, 21, [], 5)
    detect(run)
    result = score(run)
    assert result["employee_days"] == 24 * 21
    assert len(result["false_alerts"]) <= 0.02 * result["employee_days"]


def test_every_scenario_leaves_accesses_inside_its_window() -> None:
    run = simulate(30, 21, list(SCENARIOS), 11)
    for injection in run.injections:
        inside = [a for a in run.log.accesses[injection.employee_id]
                  if injection.start <= a.at <= injection.end]
        assert inside, injection


def test_blatant_insiders_are_caught_by_their_own_kind() -> None:
    run = simulate(30, 21, ["breadth", "enumeration", "notice_activity"], 2)
    detect(run)
    assert all(score(run)["caught"]), [i.params for i in run.injections]


def test_ordinary_work_raises_nothing_night_shifts_supervisors_covering_and_new_hires() -> None:
    run = simulate(40, 30, [], 8)
    detect(run)
    members = set().union(*groups(run.staff).values())
    assert run.staff.covering and any(e.supervisor for e in run.staff.employees)
    assert [a for a in score(run)["false_alerts"] if a.employee_id in members] == []


def test_the_quiet_thieves_of_issue_17_are_caught() -> None:
    run = simulate(30, 30, ["no_business_reason", "low_and_slow", "surname_enumeration"], 4)
    detect(run)
    assert score(run)["caught"] == [True, True, True], [i.params for i in run.injections]
    assert [i.params.get("customers", i.params.get("per_day", i.params.get("surnames")))
            for i in run.injections] == [40, 15, 40]


def test_the_benchmark_reports_recall_per_scenario_and_false_alerts_per_100_days() -> None:
    figures = benchmark(20, 14, [1], ["bulk_export"], say=lambda _: None)
    assert set(figures["recall"]) == {"bulk_export"} and figures["runs"] == 1
    assert set(figures["false_alerts_per_100_employee_days"]) == {
        "clean_runs", "runs_with_injections", *ORDINARY}
