"""Merge, guard and split decisions of the resolver, table-driven, without I/O."""

from __future__ import annotations

from datetime import timedelta

import pytest

from events.duplicates import MergeRequested, proposal_id
from events.identifiers import Identifier, identifiers_of
from events.identity import SplitRequested
from events.ids import customer_id_for, split_target_id
from services.projections.identity.decide import (
    Flag,
    Merge,
    Reattribute,
    Refuse,
    Register,
    Snapshot,
    Split,
    Unlink,
    decide,
)
from services.projections.identity.guards import (
    GuardConfig,
    is_junk,
    merges_exhausted,
)
from tests.support.identity_items import T0, attributed_to, item


@pytest.mark.parametrize(("kind", "raw", "junk"), [
    ("phone", "8 (000) 000-00-00", True),
    ("phone", "+7 999 999-99-99", True),
    ("phone", "8 123 456-78-90", True),
    ("phone", "8 912 345-67-89", False),
    ("email", "noreply@bank.ru", True),
    ("email", "No-Reply@Shop.RU", True),
    ("email", "mailer-daemon@mx.ru", True),
    ("email", "ирина@почта.рф", False),
    ("email", "irina.petrova@mail.ru", False),
    ("handle", "tg:@irina", False),
])
def test_junk_values_are_never_used_to_match_people(kind: str, raw: str, junk: bool) -> None:
    [identifier] = identifiers_of(**{kind: raw})
    assert (is_junk(identifier, GuardConfig()) is not None) is junk


def test_a_configured_switchboard_number_is_junk() -> None:
    switchboard = Identifier("phone", "+74951234567")
    assert is_junk(switchboard, GuardConfig(blocked_values=frozenset({switchboard.key})))
    assert is_junk(switchboard, GuardConfig()) is None


@pytest.mark.parametrize(("times", "exhausted"), [
    ([], False),
    ([T0], False),
    ([T0, T0 + timedelta(days=3)], True),
    ([T0 - timedelta(days=40), T0 - timedelta(days=35)], False),
])
def test_an_identifier_may_join_only_so_many_customers_in_a_window(times, exhausted) -> None:
    assert merges_exhausted(times, T0 + timedelta(days=5), GuardConfig()) is exhausted


def test_a_form_with_one_customers_phone_and_anothers_email_merges_them_older_survives() -> None:
    call = item("call", 0, "call", phone="8 912 345-67-89", name="Ирина Петрова")
    mail = item("mail", 10, "email", email="irina@mail.ru")
    form = item("form", 20, phone="+7 (912) 345 67 89", email="IRINA@MAIL.RU")
    commands = decide([call, mail, form], Snapshot())
    older, newer = customer_id_for(call[0]), customer_id_for(mail[0])
    assert [c for c in commands if isinstance(c, Merge)] == [
        Merge(older, newer, form[0], ("phone:+79123456789", "email:irina@mail.ru"), form[1].occurred_at)]
    assert attributed_to(commands)[form[0]] == older


def test_the_oldest_customer_survives_whatever_order_they_are_found_in() -> None:
    snapshot = Snapshot(owners={"phone:+79123456789": "young", "email:a@mail.ru": "old"},
                        registered={"young": T0, "old": T0 - timedelta(days=300)})
    commands = decide([item("form", phone="89123456789", email="a@mail.ru")], snapshot)
    [merge] = [c for c in commands if isinstance(c, Merge)]
    assert (merge.survivor_id, merge.merged_id) == ("old", "young")


def test_customers_split_apart_are_not_merged_again_but_flagged() -> None:
    snapshot = Snapshot(owners={"phone:+79123456789": "a", "email:b@mail.ru": "b"},
                        registered={"a": T0, "b": T0 + timedelta(days=1)},
                        separated={frozenset(("a", "b"))})
    commands = decide([item("form", 30, phone="89123456789", email="b@mail.ru")], snapshot)
    assert not [c for c in commands if isinstance(c, Merge)]
    flags = [c for c in commands if isinstance(c, Flag)]
    assert {f.customer_id for f in flags} == {"a", "b"}
    assert "split apart" in flags[0].reason


def test_a_shared_number_that_already_joined_two_customers_is_flagged_instead_of_merging() -> None:
    shared = "phone:+79123456789"
    snapshot = Snapshot(owners={shared: "a", "email:c@mail.ru": "c"},
                        registered={"a": T0, "c": T0 + timedelta(days=1)},
                        merge_times={shared: [T0, T0 + timedelta(days=2)]})
    commands = decide([item("form", 60 * 24 * 3, phone="89123456789", email="c@mail.ru")], snapshot)
    assert not [c for c in commands if isinstance(c, Merge)]
    [flag, _] = [c for c in commands if isinstance(c, Flag)]
    assert flag.key == shared and "shared number" in flag.reason


def test_placeholder_numbers_on_two_forms_keep_two_people_apart() -> None:
    a = item("a", phone="8 (000) 000-00-00", email="a@mail.ru")
    b = item("b", 5, phone="8 (000) 000-00-00", email="b@mail.ru")
    customers = attributed_to(decide([a, b], Snapshot()))
    assert customers[a[0]] != customers[b[0]]


def test_a_split_moves_the_identifiers_and_only_the_interactions_that_came_through_them() -> None:
    call = item("call", 0, "call", phone="8 912 345-67-89")
    form = item("form", 10, phone="8 912 345-67-89", email="shared@mail.ru")
    mail = item("mail", 20, "email", email="shared@mail.ru")
    snapshot = Snapshot()
    customer = attributed_to(decide([call, form, mail], snapshot))[call[0]]
    command = SplitRequested(command_id="cmd-1", customer_id=customer, keys=["email:shared@mail.ru"],
                             requested_by="sup-1", at=T0 + timedelta(hours=1))
    commands = decide([("cmd-1", command)], snapshot)
    target = split_target_id("cmd-1")
    assert commands[0] == Register(target, "cmd-1", command.at, split_from=customer)
    assert Unlink(customer, "email:shared@mail.ru", "cmd-1", command.at) in commands
    [split] = [c for c in commands if isinstance(c, Split)]
    assert split.interaction_ids == (mail[0],)
    assert [c for c in commands if isinstance(c, Reattribute)] == [
        Reattribute(mail[0], customer, target, "cmd-1")]
    later = item("later", 90, "email", email="Shared@Mail.ru")
    assert attributed_to(decide([later], snapshot))[later[0]] == target


@pytest.mark.parametrize(("keys", "target", "reason"), [
    (["email:nobody@mail.ru"], None, "not all held by one customer"),
    (["phone:+79123456789", "email:other@mail.ru"], None, "not all held by one customer"),
    (["phone:+79123456789"], "erased-since", "unknown target customer"),  # not in the snapshot
])
def test_a_split_of_identifiers_the_customer_does_not_hold_or_into_nobody_is_refused(keys, target, reason) -> None:
    snapshot = Snapshot(owners={"phone:+79123456789": "a", "email:other@mail.ru": "b"},
                        registered={"a": T0, "b": T0})
    command = SplitRequested(command_id="cmd", customer_id="a", keys=keys, target_customer_id=target,
                             requested_by="adm", at=T0)
    [refusal] = decide([("cmd", command)], snapshot)
    assert isinstance(refusal, Refuse) and reason in refusal.reason


def test_a_split_into_an_existing_customer_registers_nobody() -> None:
    snapshot = Snapshot(owners={"phone:+79123456789": "a", "email:x@mail.ru": "a"},
                        registered={"a": T0, "b": T0})
    command = SplitRequested(command_id="cmd", customer_id="a", keys=["email:x@mail.ru"],
                             target_customer_id="b", requested_by="adm", at=T0)
    commands = decide([("cmd", command)], snapshot)
    assert not [c for c in commands if isinstance(c, Register)]
    assert [c.target_id for c in commands if isinstance(c, Split)] == ["b"]
    assert snapshot.owners["email:x@mail.ru"] == "b"


@pytest.mark.parametrize("spelling", ["8 912 345-67-89", "+7 (912) 345 67 89", "7-912-345-67-89", "9123456789"])
def test_every_common_spelling_of_a_number_reaches_the_same_customer(spelling: str) -> None:
    snapshot = Snapshot()
    first = item("first", 0, "call", phone="+79123456789")
    decide([first], snapshot)
    again = item(f"again-{spelling}", 5, "call", phone=spelling)
    assert attributed_to(decide([again], snapshot))[again[0]] == customer_id_for(first[0])


def _merge_request(a: str, b: str) -> MergeRequested:
    return MergeRequested(command_id="cmd-1", proposal_id=proposal_id(a, b), customer_ids=[a, b],
                          requested_by="sup-1", score=0.97, at=T0 + timedelta(hours=1))


def test_an_accepted_proposal_merges_the_younger_customer_into_the_older_with_the_proposal_as_evidence() -> None:
    snapshot = Snapshot()
    first = decide([item("m1", phone="+79120000001"), item("m2", minutes=5, phone="+79350000002")], snapshot)
    a, b = (c.customer_id for c in first if isinstance(c, Register))
    commands = decide([("cmd-1", _merge_request(b, a))], snapshot)
    merges = [c for c in commands if isinstance(c, Merge)]
    assert [(m.survivor_id, m.merged_id) for m in merges] == [(a, b)]
    assert merges[0].interaction_id == proposal_id(a, b)
    assert merges[0].keys == (f"proposal:{proposal_id(a, b)}",)


def test_an_accepted_proposal_overrides_an_earlier_split_and_a_second_accept_is_refused() -> None:
    snapshot = Snapshot()
    first = decide([item("s1", phone="+79120000001"), item("s2", minutes=5, phone="+79350000002")], snapshot)
    a, b = (c.customer_id for c in first if isinstance(c, Register))
    snapshot.separated.add(frozenset((a, b)))
    assert any(isinstance(c, Merge) for c in decide([("cmd-1", _merge_request(a, b))], snapshot))
    again = decide([("cmd-2", _merge_request(a, b))], snapshot)
    assert [type(c) for c in again] == [Refuse]


def test_a_merge_of_an_unknown_customer_is_refused() -> None:
    commands = decide([("cmd-1", _merge_request(customer_id_for("x"), customer_id_for("y")))], Snapshot())
    assert [c.reason for c in commands if isinstance(c, Refuse)] == ["unknown customer"]


def test_a_split_takes_a_member_left_without_keys_along_so_a_later_merge_naming_it_lands_on_the_target() -> None:
    snapshot = Snapshot()
    first = decide([item("j1", phone="+79120000001"), item("j2", 5, "email", email="b@mail.ru"),
                    item("j3", 9, phone="+79120000001", email="b@mail.ru"),
                    item("j4", 12, phone="+79350000003")], snapshot)
    a, b, c = (x.customer_id for x in first if isinstance(x, Register))
    assert any(isinstance(x, Merge) and (x.survivor_id, x.merged_id) == (a, b) for x in first)
    split = SplitRequested(command_id="cmd-s", customer_id=a, keys=["email:b@mail.ru"], requested_by="sup-1",
                           at=T0 + timedelta(hours=1))
    [done] = [x for x in decide([("cmd-s", split)], snapshot) if isinstance(x, Split)]
    target = split_target_id("cmd-s")
    assert done.members == (b,)
    merges = [x for x in decide([("cmd-m", _merge_request(b, c))], snapshot) if isinstance(x, Merge)]
    assert [(m.survivor_id, m.merged_id) for m in merges] == [(c, target)]


def test_a_split_leaves_a_member_that_still_holds_a_key_with_the_source() -> None:
    snapshot = Snapshot(owners={"phone:+79120000001": "a", "email:b@mail.ru": "a", "phone:+79350000002": "a"},
                        registered={"a": T0, "b": T0}, merged_into={"b": "a"},
                        member_keys={"a": {"phone:+79120000001"}, "b": {"email:b@mail.ru", "phone:+79350000002"}})
    split = SplitRequested(command_id="cmd", customer_id="a", keys=["email:b@mail.ru"], requested_by="adm", at=T0)
    [done] = [x for x in decide([("cmd", split)], snapshot) if isinstance(x, Split)]
    assert done.members == () and snapshot.merged_into["b"] == "a"
