"""Unified diffs for the UI and the model, with line endings normalised so CRLF files diff cleanly."""

from __future__ import annotations

import difflib
import re
from typing import Any

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


_HUNK_RE = re.compile(r"^@@ -(\d+)(,\d+)? \+(\d+)(,\d+)? @@")
MAX_REGIONS = 200


def region_diff(text: str | bytes, old: str | bytes, new: str | bytes, limit: int, path: str, *,
                context: int = 3) -> str:
    """The diff of replacing ``old`` with ``new`` (the first ``limit`` times; 0 = all), built only from
    the regions around each match: the same hunks ``unified_diff`` gives on the whole text (up to how
    difflib aligns equal lines), in memory that grows with the edit, not with the file. ``text`` may be
    UTF-8 bytes (with ``old``/``new`` as bytes), so a big file need never be decoded whole."""
    nl: Any = "\n" if isinstance(text, str) else b"\n"
    hunks: list[str] = []
    line_shift = 0  # how many lines the replacements above have added (or removed)
    pos = text.find(old)  # type: ignore[arg-type]
    regions = 0
    done = 0
    while pos >= 0 and (limit == 0 or done < limit):
        if regions == MAX_REGIONS:
            hunks.append(f"[... more replacements not shown ({path}) ...]")
            break
        start = _line_start(text, pos, context, nl)
        end = _line_end(text, pos + len(old), context, nl)
        region_new: list[Any] = []
        cursor = start
        # Every match whose context overlaps this region joins it, so the hunks never overlap.
        while pos >= 0 and _line_start(text, pos, context, nl) <= end and (limit == 0 or done < limit):
            region_new += [text[cursor:pos], new]
            cursor = pos + len(old)
            end = max(end, _line_end(text, cursor, context, nl))
            done += 1
            pos = text.find(old, cursor)  # type: ignore[arg-type]
        region_new.append(text[cursor:end])
        old_region, new_region = _as_text(text[start:end]), _as_text(text[:0].join(region_new))
        first = text.count(nl, 0, start)
        old_lines, new_lines = _lines(old_region), _lines(new_region)
        for line in difflib.unified_diff(old_lines, new_lines, n=context, lineterm=""):
            match = _HUNK_RE.match(line)
            if line.startswith(("---", "+++")):
                continue
            if match:
                a, b, c, d = match.groups()
                line = f"@@ -{int(a) + first}{b or ''} +{int(c) + first + line_shift}{d or ''} @@"
            hunks.append(line)
        line_shift += len(new_lines) - len(old_lines)
        regions += 1
    if not hunks:
        return ""
    return "\n".join([f"--- a/{path}", f"+++ b/{path}", *hunks])


def _as_text(chunk: str | bytes) -> str:
    return chunk if isinstance(chunk, str) else chunk.decode("utf-8", errors="backslashreplace")


def _line_start(text: Any, pos: int, context: int, nl: Any) -> int:
    start = int(text.rfind(nl, 0, pos)) + 1
    for _ in range(context):
        if start == 0:
            break
        start = int(text.rfind(nl, 0, start - 1)) + 1
    return start


def _line_end(text: Any, pos: int, context: int, nl: Any) -> int:
    end = int(text.find(nl, pos))
    for _ in range(context):
        if end < 0:
            break
        end = int(text.find(nl, end + 1))
    return len(text) if end < 0 else end + 1
