"""Asterisk cdr-csv and FreeSWITCH JSON CDRs -> call interactions, line by line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from events.interaction import Interaction
from services.ingest.accept import Rejected
from services.ingest.channels.cdr import PbxConfig, parse_cdr_csv, parse_freeswitch_json
from services.ingest.channels.common import Refused

MASTER = (Path(__file__).parent.parent / "data" / "cdr" / "Master.csv").read_bytes()
MOSCOW = PbxConfig.from_settings("Europe/Moscow", r"^\d{2,5}$")


def test_each_line_of_master_csv_is_one_result_in_line_order():
    items = parse_cdr_csv(MASTER, MOSCOW)
    assert len(items) == 6
    kinds = [type(i).__name__ for i in items]
    assert kinds == ["dict", "dict", "dict", "Rejected", "Rejected", "dict"]
    for item in items:
        if isinstance(item, dict):
            Interaction.model_validate(item)


def test_an_inbound_answered_call_from_a_customer_to_an_extension():
    call = parse_cdr_csv(MASTER, MOSCOW)[0]
    assert call["direction"] == "inbound" and call["agent_id"] == "101"
    assert call["customer"] == {"phone": "89123456789", "name": "Ирина Петрова"}
    assert call["occurred_at"] == "2026-11-20T10:00:00+03:00"  # the PBX's clock, with its offset
    assert call["external_id"] == "1763622000.18"
    assert call["details"] == {"duration_s": 180, "ring_s": 7, "disposition": "answered", "total_s": 187,
                               "recording": "/var/spool/asterisk/monitor/in-89123456789-101-1763622000.18.wav"}
    assert Interaction.model_validate(call).primary_identifier().key == "phone:+79123456789"


def test_a_missed_queue_call_keeps_its_ring_time_and_normalised_disposition():
    call = parse_cdr_csv(MASTER, MOSCOW)[1]
    assert call["details"]["disposition"] == "missed" and call["details"]["ring_s"] == 42
    assert call["agent_id"] == "600"  # the queue's number matches the default 2-5 digits
    assert Interaction.model_validate(call).primary_identifier().key == "phone:+74951234567"


def test_an_outbound_call_from_an_extension_has_the_dialled_number_as_customer():
    call = parse_cdr_csv(MASTER, MOSCOW)[2]
    assert call["direction"] == "outbound" and call["agent_id"] == "102"
    assert call["customer"] == {"phone": "8-912-765-43-21", "name": None}
    assert call["details"]["disposition"] == "busy"


def test_bad_lines_are_rejected_with_their_reason_and_the_rest_is_kept():
    items = parse_cdr_csv(MASTER, MOSCOW)
    internal, bad_time = items[3], items[4]
    assert isinstance(internal, Rejected) and "two internal extensions" in internal.reason
    assert isinstance(bad_time, Rejected) and "start '20/11/2026 10:15'" in bad_time.reason
    assert items[5]["details"]["disposition"] == "failed"


def test_the_pbx_timezone_setting_moves_the_offset():
    utc = PbxConfig.from_settings("UTC", r"^\d{2,5}$")
    assert parse_cdr_csv(MASTER, utc)[0]["occurred_at"] == "2026-11-20T10:00:00+00:00"
    with pytest.raises(ValueError, match="time zone"):
        PbxConfig.from_settings("Mars/Olympus", r"^\d+$")


def test_the_extension_pattern_is_configurable():
    hundreds_only = PbxConfig.from_settings("UTC", r"^1\d{2}$")
    assert parse_cdr_csv(MASTER, hundreds_only)[1]["agent_id"] is None
    assert parse_cdr_csv(MASTER, hundreds_only)[0]["agent_id"] == "101"


@pytest.mark.parametrize(("line", "why"), [
    (b'"","1","2"', "expected 16 to 18 columns"),
    (b'"","89123456789","101","c","","SIP/x-1","","Dial","","2026-11-20 10:00:00","","2026-11-20 10:00:01",'
     b'x,0,"ANSWERED","DOCUMENTATION","u1",""', "duration 'x'"),
    (b'"","89123456789","101","c","","SIP/x-1","","Dial","","2026-11-20 10:00:00","","2026-11-20 10:00:01",'
     b'1,0,"LOST","DOCUMENTATION","u2",""', "unknown disposition 'LOST'"),
])
def test_malformed_lines_say_what_is_wrong(line, why):
    [item] = parse_cdr_csv(line, MOSCOW)
    assert isinstance(item, Rejected) and why in item.reason


def test_an_empty_body_is_refused():
    with pytest.raises(Refused):
        parse_cdr_csv(b"\n\n", MOSCOW)


def test_cp1251_caller_names_from_older_pbx_installs_are_read():
    line = ('"","89123456789","101","c","""Ирина"" <89123456789>","SIP/t-1","SIP/101-2","Dial","",'
            '"2026-11-20 10:00:00","","2026-11-20 10:00:01",1,0,"NO ANSWER","DOCUMENTATION","u3",""')
    [item] = parse_cdr_csv(line.encode("cp1251"), MOSCOW)
    assert item["customer"]["name"] == "Ирина"


FREESWITCH = {"core-uuid": "b2a1", "variables": {
    "uuid": "5c4a4a0e-2f7c-4d8e-9d43-1f7c0e3f9d11", "direction": "inbound",
    "caller_id_number": "+79123456789", "caller_id_name": "Ирина Петрова",
    "destination_number": "101", "start_epoch": "1763622000", "answer_epoch": "1763622005",
    "end_epoch": "1763622125", "duration": "125", "billsec": "120", "hangup_cause": "NORMAL_CLEARING",
    "record_path": "/recordings/5c4a.wav"}}


def test_freeswitch_json_cdrs_become_the_same_call_interactions():
    missed = json.loads(json.dumps(FREESWITCH))
    missed["variables"].update(uuid="u-2", billsec="0", answer_epoch="0", hangup_cause="NO_ANSWER")
    broken = {"variables": {"uuid": "u-3"}}
    answered, missed_call, rejected = parse_freeswitch_json(json.dumps([FREESWITCH, missed, broken]).encode())
    assert answered["occurred_at"] == "2025-11-20T07:00:00+00:00"
    assert answered["customer"] == {"phone": "+79123456789", "name": "Ирина Петрова"}
    assert answered["details"] == {"duration_s": 120, "ring_s": 5, "disposition": "answered",
                                   "hangup_cause": "NORMAL_CLEARING", "recording": "/recordings/5c4a.wav"}
    assert missed_call["details"]["disposition"] == "missed"
    assert isinstance(rejected, Rejected) and "start_epoch" in rejected.reason
    Interaction.model_validate(answered)
