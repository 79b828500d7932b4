"""A flame graph (SVG) from py-spy's collapsed stacks, so a profile kept under bench/results opens in
a browser; the collapsed text beside it loads into speedscope or flamegraph.pl as well."""

from __future__ import annotations

import zlib
from html import escape
from pathlib import Path

WIDTH, ROW = 1600, 16
MIN_SHARE = 0.002  # frames narrower than this share of the samples are left out


class _Node:
    __slots__ = ("children", "count")

    def __init__(self) -> None:
        self.count = 0
        self.children: dict[str, _Node] = {}


def _tree(collapsed: str) -> _Node:
    root = _Node()
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        node = root
        node.count += count
        for frame in stack.split(";"):
            node = node.children.setdefault(frame, _Node())
            node.count += count
    return root


def render(collapsed: str, title: str) -> str:
    """The SVG text: the root at the bottom, each frame as wide as its share of the samples."""
    root = _tree(collapsed)
    total = max(root.count, 1)
    boxes: list[tuple[float, int, float, str, int]] = []

    def walk(node: _Node, x: float, depth: int) -> int:
        deepest = depth
        for name, child in sorted(node.children.items()):
            width = WIDTH * child.count / total
            if child.count / total >= MIN_SHARE:
                boxes.append((x, depth, width, name, child.count))
                deepest = max(deepest, walk(child, x, depth + 1))
            x += width
        return deepest

    depth = walk(root, 0.0, 0) + 1
    height = (depth + 2) * ROW
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" font-size="11"'
           ' font-family="monospace">', f'<text x="4" y="12">{escape(title)} ({total} samples)</text>']
    for x, level, width, name, count in boxes:
        y = height - (level + 1) * ROW
        hue = 10 + zlib.crc32(name.split(" (", 1)[-1].encode()) % 50  # by file, the same in every run
        label = escape(name)
        share = 100 * count / total
        out.append(f'<g><title>{label} {share:.1f}%</title><rect x="{x:.1f}" y="{y}" width="{width:.1f}"'
                   f' height="{ROW - 1}" fill="hsl({hue},80%,60%)"/>')
        if width > 40:
            out.append(f'<text x="{x + 2:.1f}" y="{y + 11}">{label[: int(width / 7)]}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)


def write(collapsed_path: Path, out_dir: Path, title: str) -> Path:
    """Copies the collapsed stacks to ``out_dir`` and writes the SVG beside them."""
    out_dir.mkdir(parents=True, exist_ok=True)
    text = collapsed_path.read_text()
    (out_dir / collapsed_path.name).write_text(text)
    svg = out_dir / collapsed_path.with_suffix(".svg").name
    svg.write_text(render(text, title))
    return svg
