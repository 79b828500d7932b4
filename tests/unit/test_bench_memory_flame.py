"""The bench's memory report and flame graphs: pure parts, and /proc read for this very process."""

from __future__ import annotations

import os

from bench import flame, memory


def _snap(pss: float) -> dict[str, dict[str, float]]:
    return {"worker": {"rss": pss + 10, "pss": pss, "uss": pss - 1, "shmem": 0.0, "processes": 1},
            "postgres": {"rss": 900.0, "pss": 200.0, "uss": 50.0, "shmem": 800.0, "processes": 5}}


def test_growth_is_read_per_interaction_and_flat_memory_has_no_slope() -> None:
    growing = [(float(t), t * 1000, _snap(100 + t)) for t in range(20)]  # +1 MB per 1,000
    found = memory.summarise(growing)["processes"]["worker"]
    assert found["pss_mb_per_10k"] == 10.0
    assert found["pss_mb_per_10k_late"] == 10.0
    assert found["pss_start"] == 100 and found["pss_end"] == 119
    flat = memory.summarise([(float(t), t * 1000, _snap(100)) for t in range(20)])
    assert flat["processes"]["worker"]["pss_mb_per_10k"] == 0.0


def test_only_the_python_processes_count_toward_the_python_total() -> None:
    assert memory.python_total(_snap(100)) == 100.0


def test_this_process_has_resident_memory() -> None:
    found = memory.snapshot({"me": os.getpid()})["me"]
    assert found["processes"] >= 1
    assert 0 < found["uss"] <= found["rss"] and 0 < found["pss"] <= found["rss"]


def test_a_flame_graph_draws_each_frame_as_wide_as_its_samples() -> None:
    svg = flame.render("main;work;hot 75\nmain;idle 25\n", "t")
    assert "(100 samples)" in svg
    assert 'width="1200.0"' in svg  # work: three quarters of 1,600 pixels
    assert "<title>idle 25.0%</title>" in svg
