"""Name frequencies for the Russian generator's second version (``dataset(..., version=2)``).

Version 1 drew every surname from 60 at equal odds (1.7 % each, more than Иванов's ~1.3 % in
Russia), so a full name was shared by about 4 of 10,000 people. Russian surnames have a short
head and a very long tail: here the 60 well-known ones follow a power law from Иванов's 1.3 %
(about 11 % of people together) and the rest come from a tail of 3,000 root+suffix surnames.
First names stay as they were: 16-19 names per sex at equal odds already concentrate about as
much as Russian given names do (the commonest, Александр or Елена, ~6-9 % of one sex).
Patronymics are the person's own (the father's name, by sex): forms and CRMs collect them.
"""

from __future__ import annotations

import random
from functools import lru_cache

# Patronymic stems of the generator's male first names (Юрий -> Юрьевич, Пётр -> Петрович).
_PATRONYMIC_STEMS = {
    "Александр": "Александров", "Алексей": "Алексеев", "Андрей": "Андреев", "Борис": "Борисов",
    "Виктор": "Викторов", "Владимир": "Владимиров", "Дмитрий": "Дмитриев", "Евгений": "Евгеньев",
    "Иван": "Иванов", "Игорь": "Игорев", "Константин": "Константинов", "Михаил": "Михайлов",
    "Николай": "Николаев", "Олег": "Олегов", "Павел": "Павлов", "Пётр": "Петров", "Роман": "Романов",
    "Сергей": "Сергеев", "Юрий": "Юрьев"}
_HEAD_SHARE, _HEAD_POWER, _TAIL_SIZE = 0.013, 0.7, 3000
# Tail surnames: a root (from trades, nature, nicknames) and the usual endings.
_ROOTS = ["Бел", "Берез", "Бобр", "Бондар", "Бород", "Бык", "Верш", "Вихр", "Волос", "Ворон", "Гвозд", "Глад",
          "Голуб", "Горб", "Греб", "Гром", "Груш", "Дуб", "Ерш", "Жар", "Звон", "Зим", "Зуб", "Кабан", "Калин",
          "Карп", "Клён", "Клюк", "Кожевник", "Колос", "Комар", "Коньк", "Корж", "Кос", "Кот", "Крот", "Крюк", "Кудр",
          "Кулик", "Лапт", "Лис", "Лом", "Луч", "Мельник", "Мороз", "Мух", "Налим", "Овчин", "Окун", "Орех", "Пахом",
          "Пес", "Плотник", "Полоз", "Пряд", "Рыб", "Рыж", "Сазон", "Сверч", "Свист", "Сыч", "Сом", "Суслик",
          "Твердохлеб", "Тетер", "Ткач", "Топор", "Трус", "Уж", "Фил", "Хмел", "Хомяк", "Цвет", "Чиж", "Шапош",
          "Шилов", "Шишк", "Щеглов", "Ярц"]
_MIDDLES = ("", "", "", "", "ан", "ен", "ик", "ин", "ош", "ун", "ыш", "ак", "ал", "ец", "ищ", "уш", "ят", "ор")
# Most Russian surnames end in -ов/-ев or -ин; -ский, -ых, -енко are rarer.
_ENDINGS = ("ов", "ов", "ов", "ов", "ев", "ин", "ин", "ин", "ский", "ых", "енко")


def patronymic(father: str, female: bool) -> str:
    return _PATRONYMIC_STEMS[father] + ("на" if female else "ич")


@lru_cache(maxsize=1)
def _tail() -> tuple[str, ...]:
    rng = random.Random(20)  # the same tail in every run
    names: set[str] = set()
    while len(names) < _TAIL_SIZE:
        names.add(rng.choice(_ROOTS) + rng.choice(_MIDDLES) + rng.choice(_ENDINGS))
    return tuple(sorted(names))


@lru_cache(maxsize=1)
def _surname_table(head: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[float, ...]]:
    shares = [_HEAD_SHARE * (k + 1) ** -_HEAD_POWER for k in range(len(head))]
    tail = [n for n in _tail() if n not in head]
    rest = (1.0 - sum(shares)) / len(tail)
    return (*head, *tail), (*shares, *[rest] * len(tail))


def surname(head: tuple[str, ...], rng: random.Random) -> str:
    """A surname stem (masculine form) drawn at Russian-like odds; ``head`` in order of frequency."""
    names, weights = _surname_table(head)
    return rng.choices(names, weights)[0]


def feminine(stem: str) -> str:
    """Иванов -> Иванова, Ильин -> Ильина, Васильевский -> Васильевская; -ых, -енко do not change."""
    if stem.endswith("ский"):
        return stem[:-2] + "ая"
    if stem.endswith(("ых", "енко")):
        return stem
    return stem + "а"
