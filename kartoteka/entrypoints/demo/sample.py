"""The demo's customers and their week of contacts: pure data, no I/O.

Each simulated customer (``cust-0000042``) gets a Russian name, a +7 mobile, an e-mail and a
Telegram handle, and one to five contacts over the week through every channel. The first
contact is always the call that reveals the customer, so the resolver gives them the id the
staff simulation's access events use (``Publisher.customer_id``). Every contact carries the
phone, so a customer's contacts share a partition and resolve in order.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from events.names import latin

WOMEN = ("Ирина", "Елена", "Ольга", "Наталья", "Татьяна", "Анна", "Мария", "Светлана",
         "Юлия", "Екатерина", "Дарья", "Ксения", "Алёна", "Вера")
MEN = ("Алексей", "Дмитрий", "Сергей", "Андрей", "Иван", "Михаил", "Николай", "Павел",
       "Артём", "Владимир", "Максим", "Егор", "Фёдор", "Григорий")
SURNAMES = ("Иванов", "Петров", "Смирнов", "Кузнецов", "Попов", "Соколов", "Лебедев",
            "Козлов", "Новиков", "Морозов", "Волков", "Фёдоров", "Егоров", "Орлов", "Зайцев",
            "Белов", "Медведев", "Ковалёв", "Романов", "Семёнов")
MAIL_DOMAINS = ("mail.ru", "yandex.ru", "gmail.com", "bk.ru", "rambler.ru")
CHANNELS = ("call", "email", "chat", "sms", "web_form")
TOPICS = (
    ("Доставка заказа", "Здравствуйте! Заказ {n} не пришёл в срок, подскажите, где он сейчас?"),
    ("Возврат товара", "Хочу вернуть товар из заказа {n}: не подошёл размер. Как оформить возврат?"),
    ("Смена тарифа", "Прошу перевести меня на тариф «Семейный» с первого числа."),
    ("Ошибка в счёте", "В счёте за ноябрь списание дважды, номер платежа {n}. Прошу разобраться."),
    ("Консультация", "Какие документы нужны для оформления договора на юридическое лицо?"),
    ("Жалоба", "Курьер опоздал на три часа и не предупредил. Заказ {n}."),
    ("Благодарность", "Спасибо оператору за быструю помощь с заказом {n}!"),
)
DISPOSITIONS = ("ANSWERED", "ANSWERED", "ANSWERED", "NO ANSWER", "BUSY")


@dataclass(frozen=True)
class Person:
    """A demo customer's identity."""

    name: str
    phone: str
    email: str
    handle: str


def person(customer: str, seed: int) -> Person:
    """The same person for the same simulated customer and seed."""
    rng = random.Random(f"{seed}:{customer}")
    woman = rng.random() < 0.55
    first = rng.choice(WOMEN if woman else MEN)
    surname = rng.choice(SURNAMES) + ("а" if woman else "")
    digits = int(customer.rsplit("-", 1)[-1]) if customer[-1:].isdigit() else rng.randrange(10**6)
    # 9xx mobile codes; the customer's number inside a block the seed chooses, so reruns match.
    code = (912, 916, 925, 903, 968, 985)[digits % 6]
    number = (digits * 7919 + seed * 104729) % 10**7
    phone = f"+7 {code} {number // 10000:03d}-{(number // 100) % 100:02d}-{number % 100:02d}"
    login = latin(f"{first}.{surname}").replace(" ", ".")
    email = f"{login}{digits % 100}@{MAIL_DOMAINS[digits % len(MAIL_DOMAINS)]}"
    return Person(f"{first} {surname}", phone, email, f"tg:{login.replace('.', '_')}{digits % 100}")


def contacts(customer: str, agent: str, first_at: datetime, week_end: datetime, seed: int,
             external_id: str) -> list[dict[str, Any]]:
    """The customer's contacts, oldest first; the first is the call with ``external_id``."""
    rng = random.Random(f"{seed}:{customer}:contacts")
    who = person(customer, seed)
    items = [_item("call", external_id, first_at, agent, who, rng)]
    span = max((week_end - first_at).total_seconds(), 0.0)
    later = sorted(first_at + timedelta(seconds=rng.uniform(60, span)) for _ in range(rng.randrange(0, 5))
                   if span > 60)
    for n, at in enumerate(later, start=1):
        channel = CHANNELS[(n + rng.randrange(len(CHANNELS))) % len(CHANNELS)]
        items.append(_item(channel, f"{external_id}-{n}", at, agent, who, rng))
    return items


def _item(channel: str, external_id: str, at: datetime, agent: str, who: Person,
          rng: random.Random) -> dict[str, Any]:
    topic, text = rng.choice(TOPICS)
    subject: str | None = topic
    body: str | None = text.format(n=f"{rng.randrange(10**5, 10**6)}")
    # A web form is always the customer's, an SMS always ours; the rest mostly the customer's.
    inbound = channel == "web_form" or (channel != "sms" and rng.random() < 0.8)
    customer: dict[str, Any] = {"phone": who.phone, "name": who.name}
    details: dict[str, Any] = {}
    if channel == "call":
        answered = rng.choice(DISPOSITIONS)
        details = {"duration_s": rng.randrange(30, 900) if answered == "ANSWERED" else 0,
                   "disposition": answered}
        body = None if answered != "ANSWERED" else f"Разговор: {body}"
    elif channel == "email":
        customer["email"] = who.email
        details = {"message_id": f"<{external_id}@demo.kartoteka>"}
    elif channel == "chat":
        customer["handle"] = who.handle
        details = {"messages": [{"from": "customer", "text": body or ""},
                                {"from": "agent", "text": "Добрый день! Сейчас проверю."}]}
    elif channel == "sms":
        body, subject = "Ваше обращение зарегистрировано. Ответим в течение дня.", None
    else:
        customer["email"] = who.email
        details = {"form_id": "contact-us"}
    return {"channel": channel, "external_id": external_id, "occurred_at": at.isoformat(),
            "direction": "inbound" if inbound else "outbound", "customer": customer,
            "agent_id": agent, "subject": subject, "body": body, "details": details}
