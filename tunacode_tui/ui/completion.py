"""What the prompt offers to complete: slash commands and their arguments, and ``@path`` mentions.

Paths complete one folder level at a time (like a shell), so a huge repository costs one directory
listing per keystroke, never a walk.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from tunacode_tui.ui import commands

SKIPPED_DIRS = frozenset({".git", "node_modules", ".venv", "venv", "__pycache__", ".mypy_cache",
                          ".pytest_cache", ".ruff_cache", ".tox"})
MAX_CANDIDATES = 50
_MENTION = re.compile(r"(?:^|\s)(@[^\s@]*)$")


@dataclass(slots=True, frozen=True)
class Completion:
    """Replace ``length`` characters before the cursor with one of ``candidates``."""

    length: int
    candidates: list[str]


def complete_path(root: Path, fragment: str) -> list[str]:
    """Entries under ``root`` that start with ``fragment`` (a relative path); folders end in ``/``."""
    folder, _, prefix = fragment.rpartition("/")
    base = (root / folder) if folder else root
    try:
        base = base.resolve()
        if root.resolve() not in (base, *base.parents):
            return []
        entries = sorted(os.scandir(base), key=lambda e: e.name)
    except OSError:
        return []
    out = []
    for entry in entries:
        name = entry.name
        if not name.startswith(prefix) or (name.startswith(".") and not prefix.startswith(".")):
            continue
        try:
            is_dir = entry.is_dir()
        except OSError:
            continue
        if is_dir and name in SKIPPED_DIRS:
            continue
        path = f"{folder}/{name}" if folder else name
        out.append(path + "/" if is_dir else path)
        if len(out) >= MAX_CANDIDATES:
            break
    return out


def complete(text_before_cursor: str, whole_text: str, root: Path) -> Completion | None:
    """Completions at the cursor, or None. A candidate equal to what is typed is not offered."""
    if whole_text.startswith("/") and "\n" not in whole_text:
        typed = text_before_cursor
        candidates = [c for c in commands.complete(typed) if c != typed]
        return Completion(len(typed), candidates) if candidates else None
    match = _MENTION.search(text_before_cursor)
    if match is None:
        return None
    token = match.group(1)
    candidates = ["@" + path for path in complete_path(root, token[1:])]
    candidates = [c for c in candidates if c != token]
    return Completion(len(token), candidates) if candidates else None
