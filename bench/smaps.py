"""Where one process's resident memory is, from ``/proc/<pid>/smaps``: ``python -m bench.smaps PID...``.

Per process, PSS in MB of: the main malloc heap (``[heap]``), glibc's other malloc arenas (each
thread that allocates may get one, reserved 64 MB at a time and aligned to it), thread stacks,
other anonymous mappings (CPython's object arenas, large malloc blocks, DuckDB's buffers), and
file-backed mappings (the interpreter, shared libraries, their data) by file; with its threads.
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass

MB = 1024 * 1024
ARENA_ALIGN = 64 * MB  # glibc's HEAP_MAX_SIZE on 64-bit: a non-main arena starts on this boundary


@dataclass
class Mapping:
    start: int
    end: int
    perms: str
    path: str
    pss: int = 0  # bytes
    rss: int = 0


def parse(text: str) -> list[Mapping]:
    """The mappings of an smaps text, with their Rss and Pss in bytes."""
    maps: list[Mapping] = []
    for line in text.splitlines():
        head = line.split(None, 5)
        if head and "-" in head[0] and len(head) >= 5 and not head[0].endswith(":"):
            start, end = (int(x, 16) for x in head[0].split("-"))
            maps.append(Mapping(start, end, head[1], head[5].strip() if len(head) > 5 else ""))
        elif maps and line.startswith(("Pss:", "Rss:")):
            value = int(line.split()[1]) * 1024
            if line.startswith("Pss:"):
                maps[-1].pss = value
            else:
                maps[-1].rss = value
    return maps


def classify(maps: list[Mapping]) -> tuple[Counter[str], int]:
    """PSS bytes per kind of mapping (see the module's docstring), and the count of malloc arenas."""
    out: Counter[str] = Counter()
    arenas = 0
    previous: Mapping | None = None
    for m in maps:
        if m.path == "[heap]":
            kind = "heap (main arena)"
        elif m.path.startswith("[stack"):
            kind = "stacks"
        elif m.path.startswith("/") or m.path.startswith("anon_inode") or m.path.startswith("/memfd"):
            kind = "file " + m.path.rsplit("/", 1)[-1]
        elif m.path:
            kind = m.path
        elif m.start % ARENA_ALIGN == 0 and m.end - m.start <= ARENA_ALIGN and "rw" in m.perms:
            kind = "malloc arenas (threads)"
            arenas += 1
        elif (previous is not None and previous.end == m.start and previous.perms.startswith("---")
              and not previous.path and m.end - m.start >= MB and previous.end - previous.start <= 64 * 1024):
            kind = "stacks"  # a thread stack follows its guard page
        else:
            kind = "other anonymous"
        out[kind] += m.pss
        previous = m
    return out, arenas


def report(pid: int, files: int = 6) -> str:
    with open(f"/proc/{pid}/smaps") as f:
        kinds, arenas = classify(parse(f.read()))
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        name = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    with open(f"/proc/{pid}/status") as f:
        threads = next((line.split()[1] for line in f if line.startswith("Threads:")), "?")
    anon = {k: v for k, v in kinds.items() if not k.startswith("file ")}
    file_total = sum(v for k, v in kinds.items() if k.startswith("file "))
    biggest = sorted(((v, k) for k, v in kinds.items() if k.startswith("file ")), reverse=True)[:files]
    lines = [f"{pid} {name[:70]}: PSS {sum(kinds.values()) / MB:.1f} MB, threads {threads},"
             f" malloc arenas {arenas + 1}"]
    lines += [f"  {v / MB:8.1f}  {k}" for k, v in sorted(anon.items(), key=lambda kv: -kv[1]) if v >= MB / 10]
    lines.append(f"  {file_total / MB:8.1f}  file-backed, of which: "
                 + ", ".join(f"{k[5:]} {v / MB:.1f}" for v, k in biggest))
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    for pid in argv:
        print(report(int(pid)))


if __name__ == "__main__":
    main(sys.argv[1:])
