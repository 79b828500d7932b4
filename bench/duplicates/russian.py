"""Synthetic Russian customers with the errors real contact-centre data has.

Each person has an original record; some have duplicates made with typos, swapped first and
last names, diminutives (Саша for Александр), Latin transliteration, patronymics, 8/+7 and
one-digit phone typos, a new phone or mailbox, missing parts. Families share a surname, an
address and a landline: different people on one phone, the classic wrong merge.

``version=1`` is the generator the issue's first figures were measured on, kept draw for draw.
``version=2`` is more like Russia (see ``russian_names``): surnames at Russian-like odds, each
person's own patronymic (a duplicate keeps or drops it), and one mailbox per person (version 1
let two namesakes draw the same ``first.surname<0-99>@domain``, which no mail provider allows).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import date, timedelta

from unidecode import unidecode

from bench.duplicates import russian_names

MALE = ["Александр", "Алексей", "Андрей", "Борис", "Виктор", "Владимир", "Дмитрий", "Евгений", "Иван",
        "Игорь", "Константин", "Михаил", "Николай", "Олег", "Павел", "Пётр", "Роман", "Сергей", "Юрий"]
FEMALE = ["Анастасия", "Анна", "Валентина", "Виктория", "Галина", "Екатерина", "Елена", "Ирина", "Ксения",
          "Людмила", "Мария", "Наталья", "Ольга", "Светлана", "Татьяна", "Юлия"]
SURNAMES = ["Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов", "Новиков",
            "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров", "Павлов", "Козлов",
            "Степанов", "Николаев", "Орлов", "Андреев", "Макаров", "Никитин", "Захаров", "Зайцев", "Соловьёв",
            "Борисов", "Яковлев", "Григорьев", "Романов", "Воробьёв", "Сергеев", "Кузьмин", "Фролов",
            "Александров", "Дмитриев", "Королёв", "Гусев", "Киселёв", "Ильин", "Максимов", "Поляков",
            "Сорокин", "Виноградов", "Ковалёв", "Белов", "Медведев", "Антонов", "Тарасов", "Жуков", "Баранов",
            "Филиппов", "Комаров", "Давыдов", "Беляев", "Герасимов", "Богданов", "Осипов", "Сидоров"]
DIMINUTIVE = {"Александр": "Саша", "Алексей": "Лёша", "Дмитрий": "Дима", "Евгений": "Женя", "Иван": "Ваня",
              "Михаил": "Миша", "Николай": "Коля", "Павел": "Паша", "Пётр": "Петя", "Сергей": "Серёжа",
              "Юрий": "Юра", "Владимир": "Вова", "Анастасия": "Настя", "Анна": "Аня", "Екатерина": "Катя",
              "Елена": "Лена", "Ирина": "Ира", "Мария": "Маша", "Наталья": "Наташа", "Ольга": "Оля",
              "Светлана": "Света", "Татьяна": "Таня", "Юлия": "Юля", "Виктория": "Вика", "Ксения": "Ксюша"}
CITIES = ["Москва", "Санкт-Петербург", "Казань", "Екатеринбург", "Новосибирск", "Самара", "Тверь"]
STREETS = ["Ленина", "Гагарина", "Пушкина", "Мира", "Советская", "Садовая", "Лесная", "Школьная", "Победы",
           "Молодёжная", "Центральная", "Набережная", "Заводская", "Кирова", "Чехова"]
DOMAINS = ["mail.ru", "yandex.ru", "gmail.com", "bk.ru", "inbox.ru"]
COMPANIES = ["ООО Ромашка", "АО Вектор", "ИП Смирнов", "ООО Технострой", "ПАО Северсталь", None, None, None]
LETTERS = "абвгдеёжзийклмнопрстуфхцчшщыэюя"


@dataclass(frozen=True)
class Row:
    """One record as a channel delivers it, with the person it truly belongs to."""

    pid: int
    name: str | None
    phone: str | None
    email: str | None
    birth_date: str | None
    address: str | None
    company: str | None
    number: str | None = None  # another identifier (FEBRL's soc_sec_id)


def _surname(base: str, female: bool) -> str:
    return base + "а" if female else base


def _typo(text: str, rng: random.Random) -> str:
    if len(text) < 4:
        return text
    i = rng.randrange(1, len(text) - 1)
    kind = rng.choice(("sub", "del", "ins", "swap"))
    if kind == "sub":
        return text[:i] + rng.choice(LETTERS) + text[i + 1:]
    if kind == "del":
        return text[:i] + text[i + 1:]
    if kind == "ins":
        return text[:i] + rng.choice(LETTERS) + text[i:]
    return text[:i - 1] + text[i] + text[i - 1] + text[i + 1:]


def _phone_text(digits: str, rng: random.Random) -> str:
    a, b, c, d = digits[:3], digits[3:6], digits[6:8], digits[8:]
    return rng.choice([f"8 {a} {b}-{c}-{d}", f"+7 ({a}) {b}-{c}-{d}", f"+7{digits}", f"8({a}){b}{c}{d}"])


POSTCODES = {city: 100_000 + 97_123 * n % 800_000 for n, city in enumerate(CITIES)}


def _address(city: str, street: str, house: int, flat: int | None, rng: random.Random, typo: bool = False) -> str:
    form = rng.choice(["г. {c}, ул. {s}, д. {h}{f}", "{c}, {s} ул., {h}{f}", "{c}, улица {s}, дом {h}{f}"])
    text = form.format(c=city, s=_typo(street, rng) if typo else street, h=house, f=f", кв. {flat}" if flat else "")
    # Half the forms start with the postcode (one per street here).
    return f"{POSTCODES[city] + STREETS.index(street)}, {text}" if rng.random() < 0.5 else text


def _name_v2(female: bool, rng: random.Random) -> tuple[str, str, str | None]:
    """Surname at Russian-like odds and the person's own patronymic, on half of the originals."""
    stem = russian_names.surname(tuple(SURNAMES), rng)
    own = russian_names.patronymic(rng.choice(MALE), female)
    return (russian_names.feminine(stem) if female else stem), stem, own


def people(count: int, rng: random.Random, version: int = 1) -> list[tuple[Row, dict[str, object]]]:
    """Originals with what a duplicate may reuse (name parts, address parts, phone digits)."""
    out, mailboxes = [], set()
    for pid in range(count):
        female = rng.random() < 0.5
        first = rng.choice(FEMALE if female else MALE)
        if version == 1:
            surname, stem, own = _surname(rng.choice(SURNAMES), female), "", None
        else:
            surname, stem, own = _name_v2(female, rng)
        born = date(1940, 1, 1) + timedelta(days=rng.randrange(365 * 65))
        city, street = rng.choice(CITIES), rng.choice(STREETS)
        house, flat = rng.randint(1, 120), rng.choice([None, rng.randint(1, 300)])
        digits = f"9{rng.randrange(10**9):09d}"
        login = unidecode(f"{first}.{surname}").lower().replace("'", "")
        email = f"{login}{rng.randrange(100)}@{rng.choice(DOMAINS)}"
        while version > 1 and email in mailboxes:  # a provider gives a login to one person
            email = f"{login}{rng.randrange(10_000)}@{rng.choice(DOMAINS)}"
        mailboxes.add(email)
        patronymic = own if own and rng.random() < 0.5 else None
        parts = {"first": first, "surname": surname, "female": female, "city": city, "street": street,
                 "house": house, "flat": flat, "digits": digits, "stem": stem, "patronymic": own}
        name = f"{first} {patronymic} {surname}" if patronymic else f"{first} {surname}"
        row = Row(pid, name, _phone_text(digits, rng), email if rng.random() < 0.6 else None,
                  born.isoformat(), _address(city, street, house, flat, rng), rng.choice(COMPANIES))
        out.append((row, parts))
    return out


def family(original: tuple[Row, dict[str, object]], pid: int, rng: random.Random) -> Row:
    """Another person at the same address and on the same landline: never one customer."""
    row, parts = original
    female = rng.random() < 0.5
    first = rng.choice([n for n in (FEMALE if female else MALE) if n != parts["first"]])
    if parts["stem"]:
        stem = str(parts["stem"])
        surname = russian_names.feminine(stem) if female else stem
    else:
        surname = str(parts["surname"]).removesuffix("а") if not female else _surname(
            str(parts["surname"]).removesuffix("а"), True)
    born = date(1940, 1, 1) + timedelta(days=rng.randrange(365 * 65))
    return Row(pid, f"{first} {surname}", row.phone, None, born.isoformat(), row.address, None)


def _full_name(first: str, surname: str, swapped: bool, parts: dict[str, object], rng: random.Random) -> str:
    """Version 1 added one of four patronymics at random (whatever the sex); version 2 the person's
    own on half of the duplicates (a form asking for Фамилия Имя Отчество), else left out."""
    name = f"{surname} {first}" if swapped else f"{first} {surname}"
    own = parts["patronymic"]
    if own is None:
        return f"{name} {rng.choice(['Сергеевич', 'Ивановна', 'Петрович', 'Алексеевна'])}" if (
            rng.random() < 0.1) else name
    if rng.random() >= 0.5:
        return name
    return f"{surname} {first} {own}" if swapped else f"{first} {own} {surname}"


def duplicate(original: tuple[Row, dict[str, object]], rng: random.Random) -> Row:
    row, parts = original
    first, surname = str(parts["first"]), str(parts["surname"])
    if rng.random() < 0.2 and first in DIMINUTIVE:
        first = DIMINUTIVE[first]
    if rng.random() < 0.2:
        surname = _typo(surname, rng)
    name: str | None = _full_name(first, surname, rng.random() < 0.15, parts, rng)
    if rng.random() < 0.15:
        name = unidecode(str(name))
    if rng.random() < 0.05:
        name = None
    digits = str(parts["digits"])
    roll = rng.random()
    if roll < 0.12:  # one mistyped digit
        i = rng.randrange(1, 10)
        digits = digits[:i] + str((int(digits[i]) + rng.randint(1, 9)) % 10) + digits[i + 1:]
    elif roll < 0.32:  # a new number
        digits = f"9{rng.randrange(10**9):09d}"
    phone = None if rng.random() < 0.1 else _phone_text(digits, rng)
    email = row.email if rng.random() < 0.5 else None
    born = row.birth_date if rng.random() < 0.75 else None
    if born and rng.random() < 0.05:
        born = born[:8] + f"{min(28, max(1, int(born[8:]) + rng.choice((-1, 1)))):02d}"
    address = None if rng.random() < 0.3 else _address(
        str(parts["city"]), str(parts["street"]), int(str(parts["house"])),
        parts["flat"] if rng.random() < 0.7 else None, rng, typo=rng.random() < 0.1)  # type: ignore[arg-type]
    dup = replace(row, name=name, phone=phone, email=email, birth_date=born, address=address,
                  company=row.company if rng.random() < 0.5 else None)
    if not (dup.phone or dup.email):  # a channel always brings one identifier
        dup = replace(dup, phone=_phone_text(f"9{rng.randrange(10**9):09d}", rng))
    return dup


def dataset(persons: int, seed: int, duplicate_share: float = 0.4, family_share: float = 0.03,
            version: int = 1) -> list[Row]:
    rng = random.Random(seed)
    originals = people(persons, rng, version)
    rows = [row for row, _ in originals]
    for original in originals:
        if rng.random() < duplicate_share:
            rows.extend(duplicate(original, rng) for _ in range(rng.choice((1, 1, 1, 2, 3))))
    for n, original in enumerate(rng.sample(originals, int(persons * family_share))):
        rows.append(family(original, persons + n, rng))
    rng.shuffle(rows)
    return rows
