"""How a worker's processes split its partitions among themselves (services/projections/claims.py)."""

from __future__ import annotations

from services.projections.claims import fair_share, plan


def test_a_lone_member_takes_every_free_partition() -> None:
    assert plan(4, set(), {}, members=1) == (set(), {0, 1, 2, 3})


def test_a_member_above_its_fair_share_gives_back_the_rest_and_takes_nothing() -> None:
    me = 100
    owners = dict.fromkeys(range(4), me)
    assert plan(4, {0, 1, 2, 3}, owners, members=2) == ({2, 3}, set())


def test_a_newcomer_takes_only_partitions_nobody_holds_up_to_its_share() -> None:
    owners = {0: 100, 1: 100, 2: 100}
    assert plan(4, set(), owners, members=2) == (set(), {3})
    assert plan(8, set(), {}, members=3) == (set(), {0, 1, 2})


def test_survivors_take_over_what_a_dead_member_held() -> None:
    # Three members held 2+1+1 of 4; the one with 2 died: its locks went with its session.
    owners = {2: 200, 3: 300}
    assert plan(4, {2}, owners, members=2) == (set(), {0})


def test_a_singleton_has_one_holder_and_the_others_wait() -> None:
    assert fair_share(1, 3) == 1
    assert plan(1, set(), {0: 100}, members=3) == (set(), set())
    assert plan(1, set(), {}, members=2) == (set(), {0})
