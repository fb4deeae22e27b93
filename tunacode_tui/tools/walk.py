"""A gitignore-aware file walk for the pure-Python grep and glob (ripgrep has its own).

Skips junk folders that no one wants searched, hidden entries unless asked, and never follows
symlinked folders (a link to ``/`` would otherwise walk the whole disk).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

from tunacode_tui.tools.gitignore import IgnoreRule, is_ignored, read_ignore_rules

JUNK_DIRS = frozenset(
    {".git", "node_modules", ".venv", "venv", "__pycache__", "dist", "build", ".mypy_cache",
     ".pytest_cache", ".ruff_cache", ".tox", ".hg", ".svn"}
)  # fmt: skip


def walk_files(
    start: Path,
    ignore_root: Path,
    *,
    include_hidden: bool = False,
    include_links: bool = False,
    max_depth: int | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Iterator[Path]:
    """Yield files under ``start`` in a stable (sorted) order.

    Ignore files are read from ``ignore_root`` down to ``start`` and in every folder visited, so rules
    apply as git would apply them; ``max_depth`` counts folder levels below ``start``.
    """
    rules = _parent_rules(start, ignore_root)
    stack: list[tuple[Path, tuple[IgnoreRule, ...], int]] = [(start, rules, 0)]
    while stack:
        folder, inherited, depth = stack.pop()
        if should_stop is not None and should_stop():
            return
        rel_folder = _rel(folder, ignore_root)
        local = tuple(read_ignore_rules(folder, rel_folder)) if rel_folder is not None else ()
        active = inherited + local
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            continue
        subfolders: list[tuple[Path, tuple[IgnoreRule, ...], int]] = []
        for entry in entries:
            if not include_hidden and entry.name.startswith("."):
                continue
            try:
                is_link = entry.is_symlink()
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            path = Path(entry.path)
            rel = _rel(path, ignore_root)
            if rel is not None and active and is_ignored(active, rel, is_dir):
                continue
            if is_dir:
                if entry.name not in JUNK_DIRS and (max_depth is None or depth < max_depth):
                    subfolders.append((path, active, depth + 1))
                continue
            if is_link:
                if include_links and path.is_file():
                    yield path
                continue
            if entry.is_file(follow_symlinks=False):
                yield path
        stack.extend(reversed(subfolders))


def _parent_rules(start: Path, ignore_root: Path) -> tuple[IgnoreRule, ...]:
    """Rules from ignore files in the folders between the root and ``start`` (exclusive)."""
    rel = _rel(start, ignore_root)
    if not rel:
        return ()
    rules: list[IgnoreRule] = []
    folder = ignore_root
    parts = rel.split("/")
    for index in range(len(parts)):
        rules.extend(read_ignore_rules(folder, "/".join(parts[:index])))
        folder = folder / parts[index]
    return tuple(rules)


def _rel(path: Path, root: Path) -> str | None:
    try:
        rel = path.relative_to(root).as_posix()
    except ValueError:
        return None
    return "" if rel == "." else rel
