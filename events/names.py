"""Person names: search forms (folded, Latin) and matching keys (phonetic, diminutives folded, parsed).

Two Latin spellings on purpose. ``latin`` is the readable form the card projection stores for
search (changing it would need a re-projection). ``phonetic`` is a lossy matching key:
``unidecode`` transliterates (Щукин -> Shchukin), then the spellings people and systems use for
one Russian sound fold together (Yulia, Julia, Iuliia -> iulia), so a name typed in Latin on a
web form meets the same name spoken to an agent in Cyrillic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from unidecode import unidecode

# Close to ICAO/passport practice, simplified so typing "Irina Petrova" finds "Ирина Петрова"
# and "Петр" finds "Pyotr" written by a foreign agent.
_TO_LATIN = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z", "и": "i",
    "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
    "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y",
    "ь": "", "э": "e", "ю": "iu", "я": "ia",
}
_SPACES = re.compile(r"[\s\-_.,]+")


def folded(name: str) -> str:
    """Lower case, ё as е, single spaces (double surnames keep both parts as words)."""
    return _SPACES.sub(" ", name.lower().replace("ё", "е")).strip()


def latin(name: str) -> str:
    """The folded name in Latin letters; Latin input passes through (with common variants folded)."""
    text = "".join(_TO_LATIN.get(ch, ch) for ch in folded(name))
    # Foreign spellings of the same sounds: Yuri/Iurii, Petrova/Petrowa, Aleksey/Alexei.
    for variant, canonical in (("yu", "iu"), ("ya", "ia"), ("w", "v"), ("x", "ks"), ("y", "i"), ("ii", "i")):
        text = text.replace(variant, canonical)
    return text


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
    "Александр": "Саша Шура Санёк Алекс",
    "Александра": "Саша Шура",
    "Анатолий": "Толя",
    "Андрей": "Андрюша",
    "Василий": "Вася",
    "Валерий": "Валера",
    "Валерия": "Лера",
    "Геннадий": "Гена",
    "Георгий": "Гоша Жора",
    "Дарья": "Даша",
    "Леонид": "Лёня",
    "Любовь": "Люба",
    "Максим": "Макс",
    "Маргарита": "Рита",
    "Надежда": "Надя",
    "Роман": "Рома",
    "Софья": "Соня София",
    "Степан": "Стёпа",
    "Фёдор": "Федя",
    "Эдуард": "Эдик",
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
    # Forms ask for it (Фамилия Имя Отчество), chats rarely give it: one person's name with and
    # without it stays one name; the duplicate finder compares it where both have one.
    patronymic: str | None = field(default=None, compare=False)


@lru_cache(maxsize=16384)
def parse_name(text: str | None) -> PersonName:
    """First name and surname from "Ирина Петрова", "Петрова Ирина Сергеевна" or "Sasha Ivanov"."""
    if not text:
        return PersonName(None, None)
    tokens = [t for t in (phonetic(w) for w in text.replace(",", " ").split()) if len(t) > 1]
    patronymic = None
    if len(tokens) > 2:  # a third word is most often a patronymic
        others = [t for t in tokens if not _PATRONYMIC.search(t)]
        if others:
            patronymic = next((t for t in tokens if _PATRONYMIC.search(t)), None)
            tokens = others
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
    return PersonName(CANONICAL.get(first, first), surname, patronymic)


def normal_birth_date(value: object) -> str | None:
    """YYYY-MM-DD when the value is a plausible birth date, else None."""
    try:
        born = date.fromisoformat(str(value)[:10])
    except ValueError:
        return None
    return born.isoformat() if 1900 <= born.year <= date.today().year else None
