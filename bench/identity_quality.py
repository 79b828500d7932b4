"""Identity resolution quality on a synthetic population: pairwise precision, recall and F1.

Runs the resolver's pure decision function (the same one the worker records) over
generated interactions of people who use variant spellings of their phones and emails,
link channels through web forms, share family numbers and type placeholder values.
No I/O except the report: ``python -m bench.identity_quality [--people N] [--seed S]``.
"""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.payloads import BENCH_ID_SECRET
from events.ids import interaction_id
from events.interaction import Interaction
from services.projections.identity.decide import Attribute, Merge, Snapshot, decide

FIRST = ["Ирина", "Пётр", "Анна", "Сергей", "Ольга", "Дмитрий", "Елена", "Алексей", "Мария", "Иван"]
LAST = ["Петрова", "Иванов", "Смирнова", "Кузнецов", "Попова", "Соколов", "Лебедева", "Козлов"]


@dataclass
class Person:
    """Ground truth: one real person and their identifiers."""

    pid: int
    name: str
    phones: list[str]
    emails: list[str]


def phone_spelling(digits: str, rng: random.Random) -> str:
    """One of the spellings agents and forms actually produce for +7 XXX XXX-XX-XX."""
    a, b, c, d = digits[:3], digits[3:6], digits[6:8], digits[8:]
    return rng.choice([f"8 {a} {b}-{c}-{d}", f"+7 ({a}) {b} {c} {d}", f"7-{a}-{b}-{c}-{d}", f"{a}{b}{c}{d}",
                       f"+7{a}{b}{c}{d}", f"8({a}){b}{c}{d}"])


def email_spelling(email: str, name: str, rng: random.Random) -> str:
    return rng.choice([email, email.upper(), f"{name} <{email}>", f"  {email} "])


def population(people: int, rng: random.Random) -> list[Person]:
    persons = []
    for pid in range(people):
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        phones = [f"9{rng.randrange(10**9):09d}" for _ in range(rng.choice([1, 1, 1, 2]))]
        emails = [f"user{pid}.{rng.randrange(10**6)}@{rng.choice(['mail.ru', 'yandex.ru', 'gmail.com'])}"
                  for _ in range(rng.choice([0, 1, 1, 2]))]
        persons.append(Person(pid, name, phones, emails))
    # Families share a landline-like number: a real source of wrong merges.
    for a, b in zip(persons[::50], persons[1::50], strict=False):
        b.phones.append(a.phones[0])
    return persons


def interactions(persons: list[Person], per_person: int, rng: random.Random) -> list[tuple[Interaction, int]]:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    out = []
    for person in persons:
        for n in range(rng.randint(1, per_person)):
            channel = rng.choice(["call", "call", "sms", "email", "email", "web_form", "chat"])
            customer: dict[str, str] = {}
            if channel in ("call", "sms") or (channel == "web_form" and rng.random() < 0.9) or not person.emails:
                customer["phone"] = phone_spelling(rng.choice(person.phones), rng)
                channel = channel if person.emails or channel != "email" else "call"
            if channel in ("email", "web_form", "chat") and person.emails:
                customer["email"] = email_spelling(rng.choice(person.emails), person.name, rng)
            if channel == "web_form" and rng.random() < 0.05:
                customer["phone"] = "8 (000) 000-00-00"  # placeholder typed into a form
            if rng.random() < 0.5:
                customer["name"] = person.name
            at = start + timedelta(minutes=rng.randrange(60 * 24 * 300))
            out.append((Interaction.model_validate({
                "channel": channel, "external_id": f"p{person.pid}-{n}", "occurred_at": at.isoformat(),
                "direction": "inbound", "customer": customer}), person.pid))
    out.sort(key=lambda pair: pair[0].occurred_at)
    return out


def pairwise(truth: list[int], predicted: list[str]) -> dict[str, float]:
    """Pairwise precision/recall/F1 from the contingency table (no O(n^2) pair listing)."""
    def pairs(counts: Counter) -> int:  # type: ignore[type-arg]
        return sum(c * (c - 1) // 2 for c in counts.values())

    together = pairs(Counter(zip(truth, predicted, strict=True)))
    same_person, same_customer = pairs(Counter(truth)), pairs(Counter(predicted))
    precision = together / same_customer if same_customer else 1.0
    recall = together / same_person if same_person else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def evaluate(people: int, per_person: int, seed: int, batch: int = 500) -> dict[str, object]:
    rng = random.Random(seed)
    data = interactions(population(people, rng), per_person, rng)
    snapshot = Snapshot()
    owner: dict[str, str] = {}
    merged: dict[str, str] = {}
    for offset in range(0, len(data), batch):
        items = [(interaction_id(i.channel.value, i.external_id, BENCH_ID_SECRET), i)
                 for i, _ in data[offset:offset + batch]]
        for command in decide(items, snapshot):
            if isinstance(command, Attribute):
                owner[command.interaction_id] = command.customer_id
            elif isinstance(command, Merge):
                merged[command.merged_id] = command.survivor_id

    def root(customer: str) -> str:
        while customer in merged:
            customer = merged[customer]
        return customer

    predicted = [root(owner[interaction_id(i.channel.value, i.external_id, BENCH_ID_SECRET)]) for i, _ in data]
    truth = [pid for _, pid in data]
    return {"people": people, "interactions": len(data), "customers": len(set(predicted)),
            "merges": len(merged), **pairwise(truth, predicted)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--per-person", type=int, default=8)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path("bench/results/identity.json"))
    args = parser.parse_args()
    result = evaluate(args.people, args.per_person, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
