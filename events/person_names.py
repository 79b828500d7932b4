"""Person names as matching keys: one phonetic Latin spelling for Cyrillic and Latin input, diminutives folded.

``unidecode`` transliterates (Щукин -> Shchukin); the key then folds the spellings people
and systems use for the same Russian sound (Yulia, Julia, Iuliia -> iulia), so a name typed
in Latin on a web form meets the same name spoken to an agent in Cyrillic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from unidecode import unidecode

# Ordered: longer clusters first, so "shch" never becomes "s" + "hch".
_FOLDS = (
    ("shch", "sh"), ("sch", "sh"), ("tch", "ch"), ("x", "ks"), ("ph", "f"), ("w", "v"), ("kh", "h"),
    ("tz", "c"), ("cz", "c"), ("ts", "c"), ("ck", "k"), ("j", "i"), ("y", "i"), ("zh", "z"),
    ("ie", "e"), ("io", "e"),
)
_PATRONYMIC = re.compile(r"(ovich|evich|ich|ovna|evna|ichna|inichna|ogli|kyzy)$")
_NOT_LETTERS = re.compile(r"[^a-z]+")

# Full name -> the diminutives and variants Russian speakers use for it (Cyrillic).
_DIMINUTIVES = {
    "Александр": "Саша Шура Санёк Алекс Александра",
    "Алексей": "Алёша Лёша Лёха Алекс",
    "Анастасия": "Настя Настасья Стася",
    "Анна": "Аня Анюта Нюра Анечка",
    "Борис": "Боря",
    "Валентина": "Валя",
    "Виктор": "Витя",
    "Виктория": "Вика",
    "Владимир": "Володя Вова Вовка",
    "Вячеслав": "Слава",
    "Галина": "Галя",
    "Григорий": "Гриша",
    "Дмитрий": "Дима Митя Димон",
    "Евгений": "Женя",
    "Евгения": "Женя",
    "Екатерина": "Катя Катерина Катюша",
    "Елена": "Лена Алёна Леночка",
    "Елизавета": "Лиза",
    "Иван": "Ваня Ванюша",
    "Ирина": "Ира Ирочка",
    "Константин": "Костя",
    "Ксения": "Ксюша",
    "Людмила": "Люда Мила",
    "Михаил": "Миша",
    "Мария": "Маша Маруся Марья",
    "Наталья": "Наташа Наталия",
    "Николай": "Коля",
    "Ольга": "Оля",
    "Павел": "Паша",
    "Пётр": "Петя",
    "Сергей": "Серёжа Серега",
    "Светлана": "Света",
    "Станислав": "Стас",
    "Татьяна": "Таня",
    "Юлия": "Юля",
    "Юрий": "Юра",
}


# Common first names without a diminutive above: with the table's, a known first name is one of these.
_OTHER_FIRST_NAMES = (
    "Андрей Антон Артём Богдан Вадим Валентин Валерий Василий Вера Всеволод Геннадий Георгий Глеб Денис "
    "Диана Дарья Егор Жанна Зоя Игорь Илья Инна Кирилл Кира Лариса Леонид Лидия Лилия Любовь Максим Маргарита "
    "Марина Матвей Надежда Нина Никита Оксана Олег Полина Раиса Роман Руслан Семён Софья Степан Тамара "
    "Тимофей Тимур Фёдор Эдуард Элина Эльвира Яна Ярослав Зинаида Алла Арина Алина Вероника Владислав"
)


# Pure, and the same words come back (common first names and surnames, returning customers):
# the resolver's guards spent a tenth of its CPU here. Bounded: a name costs ~200 bytes.
@lru_cache(maxsize=32768)
def phonetic(text: str) -> str:
    """One Latin spelling for a name token, whatever script or transliteration it came in."""
    key = _NOT_LETTERS.sub("", unidecode(text).lower())
    for old, new in _FOLDS:
        key = key.replace(old, new)
    return re.sub(r"(.)\1+", r"\1", key)


def _canonical_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for full, variants in _DIMINUTIVES.items():
        canonical = phonetic(full)
        table[canonical] = canonical
        for variant in variants.split():
            table.setdefault(phonetic(variant), canonical)
    return table


CANONICAL = _canonical_table()
KNOWN_FIRST_NAMES = frozenset(CANONICAL) | frozenset(phonetic(n) for n in _OTHER_FIRST_NAMES.split())


@dataclass(frozen=True)
class PersonName:
    """A parsed name: first name folded to its full form, surname; both as phonetic keys."""

    first: str | None
    surname: str | None


@lru_cache(maxsize=16384)
def parse_name(text: str | None) -> PersonName:
    """First name and surname from "Ирина Петрова", "Петрова Ирина Сергеевна" or "Sasha Ivanov"."""
    if not text:
        return PersonName(None, None)
    tokens = [t for t in (phonetic(w) for w in text.replace(",", " ").split()) if len(t) > 1]
    if len(tokens) > 2:  # a third word is most often a patronymic
        tokens = [t for t in tokens if not _PATRONYMIC.search(t)] or tokens
    if not tokens:
        return PersonName(None, None)
    if len(tokens) == 1:
        token = tokens[0]
        if token in KNOWN_FIRST_NAMES:
            return PersonName(CANONICAL.get(token, token), None)
        return PersonName(None, token)
    first, surname = tokens[0], tokens[-1]
    if surname in KNOWN_FIRST_NAMES and first not in KNOWN_FIRST_NAMES:  # "Петрова Ирина": surname first
        first, surname = surname, first
    return PersonName(CANONICAL.get(first, first), surname)


def normal_birth_date(value: object) -> str | None:
    """YYYY-MM-DD when the value is a plausible birth date, else None."""
    try:
        born = date.fromisoformat(str(value)[:10])
    except ValueError:
        return None
    return born.isoformat() if 1900 <= born.year <= date.today().year else None
