"""Unified diffs for the UI and the model, with line endings normalised so CRLF files diff cleanly."""

from __future__ import annotations

import difflib

MAX_DIFF_CHARS = 20_000


def unified_diff(old: str, new: str, path: str, *, context: int = 3) -> str:
    return _diff(_lines(old), _lines(new), f"a/{path}", f"b/{path}", context)


def added_diff(new: str, path: str) -> str:
    """A new file as a diff in which every line is added."""
    return _diff([], _lines(new), "/dev/null", f"b/{path}", 3)


def cap_diff(diff: str, limit: int = MAX_DIFF_CHARS) -> str:
    """Cut a long diff for the model (the UI keeps the whole one)."""
    if len(diff) <= limit:
        return diff
    return f"{diff[:limit]}\n[... diff truncated, {len(diff) - limit} more chars ...]"


def _lines(text: str) -> list[str]:
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _diff(old: list[str], new: list[str], fromfile: str, tofile: str, context: int) -> str:
    return "\n".join(difflib.unified_diff(old, new, fromfile, tofile, n=context, lineterm=""))
