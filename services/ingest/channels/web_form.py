"""Site form submissions (urlencoded or multipart) -> web_form interactions.

Multipart bodies are read with the ``email`` package (a form-data body is a MIME multipart), so
no multipart library is needed; uploaded files are listed, never stored.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.parser import BytesParser
from typing import Any
from urllib.parse import parse_qsl

from services.ingest.channels.common import Refused, clip

DEFAULT_MAPPING = {"name": "name", "phone": "phone", "email": "email", "message": "message"}
MAX_FIELD_CHARS = 4000
MAX_FIELDS = 100
_PARSER = BytesParser(policy=policy.HTTP)


@dataclass(frozen=True)
class FormConfig:
    """Per form id, which submitted field holds each canonical one; the honeypot's name."""

    mappings: dict[str, dict[str, str]] = field(default_factory=dict)
    honeypot: str = "website"

    @classmethod
    def from_settings(cls, mappings_json: str, honeypot: str) -> FormConfig:
        mappings = json.loads(mappings_json) if mappings_json.strip() else {}
        if not isinstance(mappings, dict) or not all(isinstance(m, dict) for m in mappings.values()):
            raise ValueError('web form mappings must be {"<form id>": {"phone": "<field>", ...}}')
        return cls(mappings, honeypot)

    def mapping(self, form_id: str) -> dict[str, str]:
        return {**DEFAULT_MAPPING, **self.mappings.get(form_id, {})}


class Honeypot(Exception):  # noqa: N818 - a signal: answer like success, keep nothing
    """A bot filled the hidden field."""


def parse_form(raw: bytes, content_type: str, form_id: str, config: FormConfig,
               received_at: datetime) -> dict[str, Any]:
    """The interaction of one submission; :class:`Honeypot` for a bot, :class:`Refused` for junk."""
    fields, files = _fields(raw, content_type)
    if fields.get(config.honeypot, "").strip():
        raise Honeypot(form_id)
    fields.pop(config.honeypot, None)
    mapping = config.mapping(form_id)
    value = {canonical: fields.get(submitted, "").strip() or None
             for canonical, submitted in mapping.items()}
    if not (value.get("phone") or value.get("email")):
        raise Refused(422, "no_contact", f"the form has no {mapping['phone']!r} or {mapping['email']!r}")
    # A retried identical submission has the same id; any changed field makes a new one.
    digest = hashlib.sha256(json.dumps([form_id, sorted(fields.items())], ensure_ascii=False).encode())
    details: dict[str, Any] = {"form_id": form_id, "fields": fields}
    if files:
        details["files"] = files
    return {
        "channel": "web_form",
        "external_id": f"{form_id[:64]}:{digest.hexdigest()[:40]}",
        "occurred_at": received_at.isoformat(),
        "direction": "inbound",
        "customer": {"phone": value.get("phone"), "email": value.get("email"),
                     "name": clip(value.get("name"), 256)},
        "subject": clip(value.get("subject"), 1000),
        "body": value.get("message"),
        "details": details,
    }


def _fields(raw: bytes, content_type: str) -> tuple[dict[str, str], list[dict[str, Any]]]:
    kind = content_type.split(";")[0].strip().lower()
    if kind == "application/x-www-form-urlencoded":
        try:
            pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FIELDS)
        except (UnicodeDecodeError, ValueError) as exc:
            raise Refused(400, "invalid_form", f"form body unreadable: {exc}") from None
        return {k[:128]: clip(v, MAX_FIELD_CHARS) or "" for k, v in pairs}, []
    if kind == "multipart/form-data":
        return _multipart(raw, content_type)
    raise Refused(415, "unsupported_media_type",
                  "send application/x-www-form-urlencoded or multipart/form-data")


def _multipart(raw: bytes, content_type: str) -> tuple[dict[str, str], list[dict[str, Any]]]:
    message = _PARSER.parsebytes(b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + raw)
    if not message.is_multipart():
        raise Refused(400, "invalid_form", "multipart body without its boundary")
    fields: dict[str, str] = {}
    files: list[dict[str, Any]] = []
    for part in list(message.iter_parts())[:MAX_FIELDS]:  # type: ignore[attr-defined]
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        decoded = part.get_payload(decode=True)
        payload = decoded if isinstance(decoded, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            files.append({"field": name[:128], "filename": clip(filename, 255),
                          "content_type": part.get_content_type(), "size": len(payload)})
            continue
        charset = part.get_content_charset() or "utf-8"
        try:
            text = payload.decode(charset, "replace")
        except LookupError:
            text = payload.decode("utf-8", "replace")
        fields[name[:128]] = clip(text, MAX_FIELD_CHARS) or ""
    return fields, files
