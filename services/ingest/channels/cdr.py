"""Telephony call detail records -> call interactions: Asterisk ``cdr-csv`` and FreeSWITCH JSON.

One interaction per record; a record that cannot be read is rejected on its own with the reason,
so the good records around it still count.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.ingest.accept import Rejected
from services.ingest.channels.common import Item, Refused, clip

# Master.csv, the cdr_csv default order; uniqueid and userfield are optional trailing columns.
COLUMNS = ("accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel", "lastapp",
           "lastdata", "start", "answer", "end", "duration", "billsec", "disposition", "amaflags",
           "uniqueid", "userfield")
DISPOSITIONS = {"ANSWERED": "answered", "NO ANSWER": "missed", "BUSY": "busy", "FAILED": "failed",
                "CONGESTION": "failed"}
_CLID = re.compile(r'^\s*"?(?P<name>[^"<]*?)"?\s*<(?P<number>[^>]*)>\s*$')
_CHANNEL_EXTENSION = re.compile(r"^[A-Za-z0-9_]+/(?P<ext>[^-@/]+)")


@dataclass(frozen=True)
class PbxConfig:
    """The PBX's clock and its numbering: which numbers are internal extensions."""

    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    extension: re.Pattern[str] = re.compile(r"^\d{2,5}$")

    @classmethod
    def from_settings(cls, timezone: str, extension_pattern: str) -> PbxConfig:
        try:
            zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown PBX time zone {timezone!r}") from exc
        return cls(zone, re.compile(extension_pattern))

    def internal(self, number: str) -> bool:
        return bool(number) and self.extension.fullmatch(number) is not None


def parse_cdr_csv(raw: bytes, config: PbxConfig) -> list[Item]:
    """One item per non-empty line of Master.csv, in line order."""
    text = _decode(raw)
    items: list[Item] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            [row] = list(csv.reader([line]))
            items.append(_from_row(row, config))
        except (ValueError, csv.Error) as exc:
            items.append(Rejected(f"cdr line: {exc}"))
    if not items:
        raise Refused(422, "empty_cdr", "the body holds no CDR lines")
    return items


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1251")  # older Russian PBX installs write caller names in cp1251


def _from_row(row: list[str], config: PbxConfig) -> dict[str, Any]:
    if not 16 <= len(row) <= len(COLUMNS):
        raise ValueError(f"expected 16 to {len(COLUMNS)} columns (Master.csv order), got {len(row)}")
    cdr = dict(zip(COLUMNS, (value.strip() for value in row), strict=False))
    start = _local(cdr["start"], config, "start")
    answer = _local(cdr["answer"], config, "answer") if cdr["answer"] else None
    duration, billsec = _seconds(cdr["duration"], "duration"), _seconds(cdr["billsec"], "billsec")
    disposition = DISPOSITIONS.get(cdr["disposition"].upper())
    if disposition is None:
        raise ValueError(f"unknown disposition {cdr['disposition']!r}")
    name, clid_number = _clid(cdr["clid"])
    src = cdr["src"] or clid_number
    direction, customer, agent = _sides(src, cdr["dst"], cdr["dstchannel"], cdr["channel"], config)
    external_id = cdr.get("uniqueid") or f"{cdr['channel']}@{cdr['start']}"
    details: dict[str, Any] = {
        "duration_s": billsec,
        "ring_s": max(0, int((answer - start).total_seconds())) if answer else duration,
        "disposition": disposition,
        "total_s": duration,
    }
    if cdr.get("userfield"):
        details["recording"] = cdr["userfield"]
    if cdr["accountcode"]:
        details["accountcode"] = cdr["accountcode"]
    return {
        "channel": "call",
        "external_id": clip(external_id, 256),
        "occurred_at": start.isoformat(),
        "direction": direction,
        "customer": {"phone": customer, "name": (name or None) if direction == "inbound" else None},
        "agent_id": agent,
        "details": details,
    }


def _local(text: str, config: PbxConfig, what: str) -> datetime:
    try:
        naive = datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        raise ValueError(f"{what} {text!r} is not YYYY-MM-DD HH:MM:SS") from None
    return naive.replace(tzinfo=config.timezone)


def _seconds(text: str, what: str) -> int:
    if not text.isdigit():
        raise ValueError(f"{what} {text!r} is not a whole number of seconds")
    return int(text)


def _clid(clid: str) -> tuple[str, str]:
    match = _CLID.match(clid)
    if match is None:
        return "", ""
    name, number = match["name"].strip(), match["number"].strip()
    return ("" if name == number else name), number


def _sides(src: str, dst: str, dstchannel: str, channel: str,
           config: PbxConfig) -> tuple[str, str, str | None]:
    """(direction, the customer's number, the agent's extension)."""
    src_internal = config.internal(src) or config.internal(_extension(channel))
    if not src_internal:
        agent = dst if config.internal(dst) else _extension(dstchannel)
        return "inbound", _number(src, "src"), agent if config.internal(agent) else None
    if config.internal(dst):
        raise ValueError("a call between two internal extensions has no customer")
    return "outbound", _number(dst, "dst"), src if config.internal(src) else _extension(channel)


def _extension(channel: str) -> str:
    match = _CHANNEL_EXTENSION.match(channel)
    return match["ext"] if match else ""


def _number(value: str, what: str) -> str:
    if not any(c.isdigit() for c in value):
        raise ValueError(f"{what} {value!r} is not a phone number")
    return value


def parse_freeswitch_json(raw: bytes) -> list[Item]:
    """FreeSWITCH ``mod_json_cdr`` records (one object or a list): their variables are in UTC epochs."""
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise Refused(400, "invalid_json", f"FreeSWITCH CDR is not JSON: {exc}") from None
    records = document if isinstance(document, list) else [document]
    items: list[Item] = []
    for record in records:
        try:
            items.append(_from_freeswitch(record))
        except (ValueError, TypeError, KeyError, OverflowError) as exc:
            items.append(Rejected(f"freeswitch cdr: {exc}"))
    if not items:
        raise Refused(422, "empty_cdr", "the body holds no CDR records")
    return items


_HANGUP = {"USER_BUSY": "busy", "NO_ANSWER": "missed", "ORIGINATOR_CANCEL": "missed",
           "NO_USER_RESPONSE": "missed", "CALL_REJECTED": "busy"}


def _from_freeswitch(record: Any) -> dict[str, Any]:
    variables = record["variables"]
    if not isinstance(variables, dict):
        raise TypeError("variables must be an object")
    uuid = str(variables["uuid"])
    start = datetime.fromtimestamp(int(variables["start_epoch"]), UTC)
    billsec, duration = int(variables.get("billsec", 0)), int(variables.get("duration", 0))
    answered = int(variables.get("answer_epoch", 0) or 0)
    cause = str(variables.get("hangup_cause", ""))
    inbound = str(variables.get("direction", "inbound")) == "inbound"
    number = str(variables.get("caller_id_number" if inbound else "destination_number", ""))
    details: dict[str, Any] = {
        "duration_s": billsec,
        "ring_s": max(0, answered - int(start.timestamp())) if answered else duration,
        "disposition": "answered" if billsec > 0 else _HANGUP.get(cause, "failed"),
        "hangup_cause": cause,
    }
    if recording := variables.get("record_path") or variables.get("recording_file"):
        details["recording"] = str(recording)
    name = str(variables.get("caller_id_name", "")) if inbound else ""
    return {
        "channel": "call",
        "external_id": uuid,
        "occurred_at": start.isoformat(),
        "direction": "inbound" if inbound else "outbound",
        "customer": {"phone": _number(number, "number"), "name": name if name and name != number else None},
        "details": details,
    }
