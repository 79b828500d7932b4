"""Telegram Bot API ``Update`` objects -> chat interactions from ``tg:<from.id>``.

Only new messages from people become interactions; edits, bots' messages and every other update
type are acknowledged and dropped (Telegram retries anything not answered 2xx).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from events.interaction import MAX_BODY_CHARS
from services.ingest.channels.common import Refused, clip


def parse_update(raw: bytes) -> dict[str, Any] | None:
    """The interaction of one update, or None when the update is acknowledged without one."""
    try:
        update = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise Refused(400, "invalid_json", f"the update is not JSON: {exc}") from None
    if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
        raise Refused(422, "invalid_update", "an Update object needs an integer update_id")
    message = update.get("message")
    if not isinstance(message, dict):
        return None  # edited_message, channel_post, callback_query ...: not a new message
    sender = message.get("from")
    if not isinstance(sender, dict) or sender.get("is_bot") or not isinstance(sender.get("id"), int):
        return None
    contact: dict[str, Any] | None = message.get("contact")
    if not isinstance(contact, dict):
        contact = None
    text = message.get("text") or message.get("caption")
    if contact is None and not isinstance(text, str):
        return None  # stickers, photos without caption, service messages
    name = " ".join(str(sender[k]) for k in ("first_name", "last_name") if sender.get(k))
    customer: dict[str, Any] = {"handle": f"tg:{sender['id']}", "name": clip(name, 256) or None}
    if contact is not None and contact.get("user_id") in (None, sender["id"]):
        customer["phone"] = str(contact.get("phone_number", "")) or None  # the sender's own number
    chat = message.get("chat")
    details: dict[str, Any] = {"update_id": update["update_id"], "message_id": message.get("message_id"),
               "chat_id": chat.get("id") if isinstance(chat, dict) else None, "username": sender.get("username")}
    if contact is not None:
        details["contact"] = {k: contact.get(k) for k in ("phone_number", "first_name", "last_name")}
    return {
        "channel": "chat",
        "external_id": f"tg:update:{update['update_id']}",
        "occurred_at": _when(message.get("date")),
        "direction": "inbound",
        "customer": customer,
        "body": clip(text, MAX_BODY_CHARS) if isinstance(text, str) else "shared a contact",
        "details": details,
    }


def _when(epoch: Any) -> str:
    if not isinstance(epoch, int) or not 0 < epoch < 253_402_300_000:
        raise Refused(422, "invalid_update", "message.date must be a Unix time")
    return datetime.fromtimestamp(epoch, UTC).isoformat()
