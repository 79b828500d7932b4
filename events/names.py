"""Name forms for search: case-folded, ё = е, and a Latin transliteration for cross-script queries."""

from __future__ import annotations

import re

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
