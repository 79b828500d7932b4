"""The malloc arena limit every Kartoteka process applies, and what it does to a process with threads."""

from __future__ import annotations

import os
import subprocess
import sys

from bench.smaps import classify, parse
from kartoteka import allocator

# A child with eight threads that each allocate (blocks above pymalloc's 512 bytes go to malloc),
# printing its malloc arenas while they are all alive.
CHILD = """
import os, sys, threading
from kartoteka import allocator
from bench.smaps import classify, parse
if sys.argv[1] == "limit":
    allocator.limit_arenas()
ready, done = threading.Barrier(9), threading.Event()
def work():
    kept = [bytes(2000) for _ in range(2000)]
    ready.wait()
    done.wait()
threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads:
    t.start()
ready.wait()
print(classify(parse(open("/proc/self/smaps").read()))[1] + 1, os.environ.get("MALLOC_ARENA_MAX"))
done.set()
"""


def test_the_environment_chooses_first_else_the_default() -> None:
    assert allocator.arenas_wanted({}) == allocator.DEFAULT_ARENAS
    assert allocator.arenas_wanted({"MALLOC_ARENA_MAX": "8"}) is None


def test_the_limit_is_passed_on_to_children_and_an_operators_choice_is_kept() -> None:
    chosen = {"MALLOC_ARENA_MAX": "4"}
    assert allocator.limit_arenas(chosen) is None
    assert chosen == {"MALLOC_ARENA_MAX": "4"}


def _arenas(mode: str) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if k != allocator.ARENAS_ENV}
    out = subprocess.run([sys.executable, "-c", CHILD, mode], env=env, capture_output=True, text=True,
                         check=True, timeout=60)
    arenas, passed_on = out.stdout.split()
    return int(arenas), passed_on


def test_threads_that_allocate_share_two_arenas_instead_of_one_each() -> None:
    arenas, _ = _arenas("default")
    assert arenas >= 8  # glibc: a new arena for each new thread, up to 8 per core
    assert _arenas("limit") == (allocator.DEFAULT_ARENAS, str(allocator.DEFAULT_ARENAS))


def test_the_arena_count_is_read_from_the_mappings() -> None:
    with open(f"/proc/{os.getpid()}/smaps") as smaps:
        kinds, _ = classify(parse(smaps.read()))
    assert kinds["heap (main arena)"] > 0
