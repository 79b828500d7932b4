"""Writes the model the finder ships with: ``python -m bench.duplicates.default_model``.

EM-trained, unsupervised, on generated Russian customers (no labels used): the generator's
second version, whose names, patronymics and mailboxes are the more Russian-like. A deployment
replaces it with ``kartoteka train-duplicates`` on its own customers.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench.duplicates.quality import deterministic, records
from bench.duplicates.russian import dataset
from services.projections.duplicates import model

TARGET = Path(__file__).resolve().parents[2] / "services" / "projections" / "duplicates" / "default_model.json"


def main() -> None:
    rows = dataset(8_000, seed=3, version=2)
    params = model.train(records(rows, deterministic(rows)))
    TARGET.write_text(json.dumps(params, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {TARGET} from {len(rows)} generated rows")


if __name__ == "__main__":
    main()
