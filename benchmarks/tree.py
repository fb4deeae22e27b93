"""A generated source tree for benchmarks: deterministic, realistic file sizes, made once and reused."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

WORDS = [
    "alpha", "beta", "gamma", "delta", "parse", "render", "token", "stream", "batch", "worker",
    "cache", "config", "session", "provider", "message", "request", "result", "error", "handler",
    "value", "index", "buffer",
]


def make_tree(files: int = 20_000, root: Path | None = None) -> Path:
    root = root or Path(tempfile.gettempdir()) / f"tunacode-bench-tree-{files}"
    marker = root / ".complete"
    if marker.exists():
        return root
    rng = random.Random(42)
    for i in range(files):
        folder = root / f"pkg{i % 40:02d}" / f"mod{(i // 40) % 25:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        lines = []
        for j in range(rng.randint(20, 120)):
            a, b = rng.choice(WORDS), rng.choice(WORDS)
            lines.append(f"def {a}_{b}_{j}(x):\n    return x  # {a} {b} {i}\n")
        if i % 997 == 0:
            lines.append("NEEDLE_MARKER = True\n")
        (folder / f"file_{i:05d}.py").write_text("".join(lines))
    (root / ".gitignore").write_text("*.log\n")
    marker.write_text("ok")
    return root
