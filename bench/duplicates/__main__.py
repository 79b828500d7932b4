"""``python -m bench.duplicates [--quick]``: the duplicates phase alone (no broker or database needed)."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from types import SimpleNamespace

from bench.phases import duplicates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smaller population for the speed figure")
    parser.add_argument("--out", type=Path, default=Path("bench/results/duplicates.json"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("splink").setLevel(logging.ERROR)  # "level not observed" notes per EM step
    result = duplicates.run(SimpleNamespace(plan=SimpleNamespace(name="quick" if args.quick else "default")))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
