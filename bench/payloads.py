"""Deterministic interactions, shared by the load generator and the raw baselines.

The same ``(run, n)`` always gives the same item, so a baseline can produce exactly the
payloads the HTTP load sends. Customers repeat (``n`` maps onto ``customers`` people), every
one has an email and most a phone, so the identity resolver links as well as registers.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

CHANNELS = ("call", "email", "chat", "sms", "web_form")
FIRST = ("Ирина", "Анна", "Мария", "Ольга", "Елена", "Наталья", "Татьяна", "Светлана",
         "Иван", "Алексей", "Сергей", "Дмитрий", "Андрей", "Михаил", "Николай", "Павел")
LAST = ("Петров", "Иванов", "Смирнов", "Кузнецов", "Попов", "Соколов", "Лебедев", "Козлов",
        "Новиков", "Морозов", "Волков", "Алексеев", "Соловьёв", "Семёнов", "Егоров", "Павлов",
        "Orlov", "Volkov", "Fedorov", "Sokolov")
PATRONYMIC = ("Сергеевна", "Ивановна", "Петровна", "Алексеевна", "Дмитриевна", "Андреевна",
              "Сергеевич", "Иванович", "Петрович", "Алексеевич", "Дмитриевич", "Андреевич")
BODIES = (
    "Клиент уточнил статус заявки и попросил перезвонить после обеда.",
    "Жалоба на задержку доставки, заказ передан в службу логистики.",
    "Вопрос по тарифу: хочет перейти на годовую подписку со скидкой.",
    "Customer asked to update the billing address and resend the invoice.",
    "Повторное обращение: не пришло письмо с подтверждением, отправили снова.",
)
EPOCH = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
_MIX = 2_654_435_761  # Knuth's multiplicative hash: spreads n over customers, reproducibly


# Keys the interaction ids of in-process measurements (``events.ids``); a stack derives its own.
BENCH_ID_SECRET = b"kartoteka bench ids"


def full_name(who: int) -> str:
    """One of 16 x 20 x 6 name combinations (a patronymic of the right gender for Cyrillic names)."""
    first, last = FIRST[who % len(FIRST)], LAST[(who // len(FIRST)) % len(LAST)]
    female = who % len(FIRST) < 8
    if last.isascii():
        return f"{first} {last}"
    middle = PATRONYMIC[(who // (len(FIRST) * len(LAST))) % 6 + (0 if female else 6)]
    return f"{first} {middle} {last}{'а' if female else ''}"


def local_phone(who: int) -> str:
    """A valid Russian mobile number for person ``who`` (< 80M), spelt the local way."""
    code, rest = 910 + who // 10_000_000, who % 10_000_000
    return f"8 ({code}) {rest // 10_000:03d}-{(rest // 100) % 100:02d}-{rest % 100:02d}"


def e164_phone(who: int) -> str:
    code, rest = 910 + who // 10_000_000, who % 10_000_000
    return f"+7{code}{rest:07d}"


def email(who: int, run: str) -> str:
    return f"c{who}.{run}@example.ru"


def item(run: str, n: int, customers: int) -> dict[str, Any]:
    """Interaction number ``n`` of ``run``: about 600 bytes of JSON, like a real call record."""
    who = (n * _MIX) % customers
    customer: dict[str, str] = {"email": email(who, run), "name": full_name(who)}
    if n % 5:
        customer["phone"] = local_phone(who)
    return {
        "channel": CHANNELS[n % len(CHANNELS)],
        "external_id": f"{run}-{n}",
        "occurred_at": (EPOCH + timedelta(seconds=37 * n)).isoformat(),
        "direction": "inbound" if n % 3 else "outbound",
        "customer": customer,
        "agent_id": f"emp-{n % 40}",
        "subject": f"Обращение №{n}",
        "body": BODIES[n % len(BODIES)],
        "details": {"duration_s": 30 + n % 600, "queue": "general"},
    }


def single_body(run: str, n: int, customers: int) -> bytes:
    return json.dumps(item(run, n, customers), ensure_ascii=False).encode()


def batch_body(run: str, start: int, size: int, customers: int) -> bytes:
    items = [item(run, n, customers) for n in range(start, start + size)]
    return json.dumps({"items": items}, ensure_ascii=False).encode()
