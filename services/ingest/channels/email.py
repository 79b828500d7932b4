"""A raw RFC 5322 message -> one canonical email interaction.

Parsed by Python's ``email`` package with ``policy.default``: it decodes RFC 2047 headers (display
names too), RFC 2231 parameters, quoted-printable and base64, in every charset Python knows, and
records defects instead of raising on broken mail.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.policy import EmailPolicy
from email.utils import getaddresses
from typing import Any

from events.interaction import MAX_BODY_CHARS
from services.ingest.channels.common import Refused, clip
from services.ingest.channels.html_text import html_to_text

MAX_ATTACHMENTS = 50
MAX_REFERENCES = 20
_MSG_ID = re.compile(r"<([^<>\s]{1,250})>")


class _RememberingPolicy(EmailPolicy):
    """``policy.default`` that parses each distinct header value once.

    The parser and ``get_body``/``iter_attachments`` ask for each part's Content-Type again and
    again, and policy.default builds a new header object every time: most of a mail's parse.
    Header objects are immutable, so equal (name, value) pairs can share one.
    """

    @functools.lru_cache(maxsize=8192)  # noqa: B019 - one module-level instance, never freed
    def _parsed(self, name: str, value: str) -> Any:
        return super().header_fetch_parse(name, value)

    def header_fetch_parse(self, name: str, value: str) -> Any:
        if hasattr(value, "name"):  # already a header object
            return value
        if len(value) > 2000:  # a huge header is parsed each time rather than kept
            return super().header_fetch_parse(name, value)
        return self._parsed(name, value)


_POLICY = _RememberingPolicy()
_PARSER = BytesParser(policy=_POLICY)


@dataclass(frozen=True)
class MailConfig:
    """Domains whose mail is ours: mail from them is outbound, to its outside recipient."""

    own_domains: frozenset[str] = frozenset()

    @classmethod
    def from_setting(cls, domains: str) -> MailConfig:
        return cls(frozenset(d.strip().lower().lstrip("@") for d in domains.split(",") if d.strip()))

    def owns(self, address: str) -> bool:
        domain = address.rpartition("@")[2].lower()
        return any(domain == own or domain.endswith("." + own) for own in self.own_domains)


def parse_email(raw: bytes, config: MailConfig, received_at: datetime) -> dict[str, Any]:
    """The canonical interaction of one message; :class:`Refused` says why there is none."""
    if not raw.strip():
        raise Refused(422, "empty_message", "the request body holds no message")
    message = _PARSER.parsebytes(raw)
    if not message.keys():
        raise Refused(422, "not_a_message", "no RFC 5322 header fields found")
    message_id = next(iter(_ids(message, "message-id")), None)
    references = _ids(message, "references")
    in_reply_to = next(iter(_ids(message, "in-reply-to")), None)
    external_id = message_id or "sha256:" + hashlib.sha256(raw).hexdigest()
    direction, (name, address) = _party(message, config)
    body, truncated = _body(message)
    details: dict[str, Any] = {
        "message_id": message_id,
        "in_reply_to": in_reply_to,
        "references": references[:1] + references[1:][-(MAX_REFERENCES - 1):],
        "thread_id": references[0] if references else in_reply_to or external_id,
        "attachments": _attachments(message),
    }
    if truncated:
        details["body_truncated"] = True
    if (bounce := _bounce(message)) is not None:
        details["bounce"] = bounce
    return {
        "channel": "email",
        "external_id": external_id,
        "occurred_at": _occurred(message, received_at).isoformat(),
        "direction": direction,
        "customer": {"email": address, "name": clip(name, 256) or None},
        "subject": clip(_header(message, "subject"), 1000),
        "body": body,
        "details": details,
    }


def _header(message: Message, name: str) -> str | None:
    try:
        value = message.get(name)
    except Exception:  # noqa: BLE001 - a header the policy cannot parse is kept as sent
        value = next((v for k, v in message.raw_items() if k.lower() == name), None)  # type: ignore[attr-defined]
    return None if value is None else str(value).strip() or None


def _addresses(message: Message, name: str) -> list[tuple[str, str]]:
    """(display name, address) pairs of a header, every well-formed address of every copy."""
    found: list[tuple[str, str]] = []
    try:
        values = message.get_all(name) or []
    except Exception:  # noqa: BLE001 - unparseable: nothing usable in it
        return found
    for value in values:
        parsed = getattr(value, "addresses", None)
        pairs = ([(a.display_name, a.addr_spec) for a in parsed] if parsed
                 else getaddresses([str(value)]))
        found.extend((n, a.strip()) for n, a in pairs if "@" in a and " " not in a.strip())
    return found


def _party(message: Message, config: MailConfig) -> tuple[str, tuple[str, str]]:
    """Direction and the customer's (name, address)."""
    senders = _addresses(message, "from") or _addresses(message, "sender")
    if senders and config.owns(senders[0][1]):
        outside = [a for h in ("to", "cc", "bcc") for a in _addresses(message, h)
                   if not config.owns(a[1])]
        if not outside:
            raise Refused(422, "no_customer", "mail from an own domain names no outside recipient")
        return "outbound", outside[0]
    bounce = _bounce(message)
    if bounce is not None and "@" in bounce["recipient"]:
        return "inbound", ("", bounce["recipient"])
    if not senders:
        raise Refused(422, "no_sender", "the message has no usable From address")
    return "inbound", senders[0]


def _ids(message: Message, name: str) -> list[str]:
    text = " ".join(str(v) for v in (message.get_all(name) or []))
    found = _MSG_ID.findall(text)
    bare = text.strip()
    if not found and bare and " " not in bare and len(bare) <= 250:
        return [bare]  # a Message-ID sent without its angle brackets
    return list(found)


def _occurred(message: Message, received_at: datetime) -> datetime:
    try:
        header = message.get("date")
        when = getattr(header, "datetime", None)
    except Exception:  # noqa: BLE001 - an unreadable Date: the time it reached us
        when = None
    if not isinstance(when, datetime) or not 1 < when.year < 9999:
        return received_at
    # RFC 5322 3.3: "-0000" is UTC with the sender's zone unknown, parsed as naive.
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _body(message: Message) -> tuple[str | None, bool]:
    """text/plain if there is one, else the HTML made readable; and whether it was cut."""
    try:
        part = message.get_body(preferencelist=("plain", "html")) if isinstance(
            message, EmailMessage) else None
    except Exception:  # noqa: BLE001 - a structure get_body cannot walk: no body
        part = None
    if part is None:
        return None, False
    text = _text(part)
    if part.get_content_subtype() == "html":
        text = html_to_text(text)
    text = text.replace("\r\n", "\n").strip()
    body = clip(text, MAX_BODY_CHARS)
    return body or None, body is not None and len(body) < len(text)


def _text(part: Message) -> str:
    try:
        content = part.get_content()  # type: ignore[attr-defined]
        if isinstance(content, str):
            return content
    except Exception:  # noqa: BLE001 - unknown charset or broken encoding: decode leniently
        pass
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    try:
        return data.decode(part.get_content_charset() or "utf-8", "replace")
    except LookupError:
        return data.decode("utf-8", "replace")


def _attachments(message: Message) -> list[dict[str, Any]]:
    """Listed, never stored: name, type and decoded size of each attachment."""
    try:
        parts = list(message.iter_attachments()) if isinstance(message, EmailMessage) else []
    except Exception:  # noqa: BLE001 - a multipart iter_attachments cannot walk
        return []
    return [
        {"filename": clip(_filename(part), 255), "content_type": part.get_content_type(),
         "size": _size(part)}
        for part in parts[:MAX_ATTACHMENTS]
    ]


def _filename(part: Message) -> str | None:
    try:
        return part.get_filename()
    except Exception:  # noqa: BLE001 - a parameter that does not decode
        return None


def _size(part: Message) -> int:
    try:
        if part.is_multipart() or part.get_content_maintype() == "message":
            return len(part.as_bytes())
        payload = part.get_payload(decode=True)
        return len(payload) if isinstance(payload, bytes) else 0
    except Exception:  # noqa: BLE001 - an unencodable part still gets listed
        return 0


def _bounce(message: Message) -> dict[str, str] | None:
    """A delivery status notification: which recipient failed, and how."""
    if message.get_content_type() != "multipart/report":
        return None
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        blocks = part.get_payload()
        for block in blocks if isinstance(blocks, list) else []:
            if not isinstance(block, Message):
                continue
            recipient = block.get("final-recipient") or block.get("original-recipient")
            if recipient:
                return {"recipient": str(recipient).partition(";")[2].strip()[:320],
                        "action": str(block.get("action", "")).strip()[:64],
                        "status": str(block.get("status", "")).strip()[:128]}
    return None
