"""Find where a failed edit probably meant to land, so the error can show the model the real text.

A failed exact match is usually a whitespace, indentation or stale-memory difference; showing the most
similar region with line numbers lets the model copy the real text on its next try.
"""

from __future__ import annotations

import difflib
import heapq
import re
from dataclasses import dataclass

# Exhaustive window scoring up to this many (file lines x old_text lines); beyond it, score only
# the windows whose first line resembles old_text's first line.
_EXHAUSTIVE_BUDGET = 20_000
_CANDIDATES = 25
_MIN_RATIO = 0.3
_LINE_NUMBER_PREFIX = re.compile(r"^\s*\d+\t")


@dataclass(frozen=True, slots=True)
class ClosestMatch:
    start: int  # 0-based index of the first line of the region
    end: int  # exclusive
    ratio: float


def find_closest(file_lines: list[str], old_lines: list[str]) -> ClosestMatch | None:
    """The window of ``len(old_lines)`` file lines most similar to ``old_lines``. Blocking: can be slow."""
    size = max(1, len(old_lines))
    if not file_lines or not any(line.strip() for line in old_lines):
        return None
    last_start = max(0, len(file_lines) - size)
    if len(file_lines) * size <= _EXHAUSTIVE_BUDGET:
        starts: list[int] = list(range(last_start + 1))
    else:
        starts = _candidate_starts(file_lines, old_lines, last_start)
    target = "\n".join(line.strip() for line in old_lines)
    best: ClosestMatch | None = None
    matcher = difflib.SequenceMatcher(None, autojunk=False)
    matcher.set_seq2(target)
    for start in starts:
        window = "\n".join(line.strip() for line in file_lines[start : start + size])
        matcher.set_seq1(window)
        if best is not None and matcher.real_quick_ratio() <= best.ratio:
            continue
        if best is not None and matcher.quick_ratio() <= best.ratio:
            continue
        ratio = matcher.ratio()
        if best is None or ratio > best.ratio:
            best = ClosestMatch(start, min(start + size, len(file_lines)), ratio)
    if best is None or best.ratio < _MIN_RATIO:
        return None
    return best


def _candidate_starts(file_lines: list[str], old_lines: list[str], last_start: int) -> list[int]:
    # Anchor on old_text's most distinctive (longest) line and keep the best-scoring positions.
    anchor_index = max(range(len(old_lines)), key=lambda i: len(old_lines[i].strip()))
    anchor = old_lines[anchor_index].strip()
    matcher = difflib.SequenceMatcher(None, autojunk=False)
    matcher.set_seq2(anchor)
    scored: list[tuple[float, int]] = []
    for index, line in enumerate(file_lines):
        matcher.set_seq1(line.strip())
        if matcher.real_quick_ratio() < _MIN_RATIO:
            continue
        scored.append((matcher.quick_ratio(), index))
    top = heapq.nlargest(_CANDIDATES * 4, scored)
    refined: list[tuple[float, int]] = []
    for _, index in top:
        matcher.set_seq1(file_lines[index].strip())
        refined.append((matcher.ratio(), index))
    starts = {min(max(0, index - anchor_index), last_start) for _, index in heapq.nlargest(_CANDIDATES, refined)}
    return sorted(starts)


def whitespace_only_difference(text: str, old: str) -> bool:
    """True if old_text would match when indentation and runs of whitespace are ignored."""
    squash = re.compile(r"[ \t]+")

    def norm(s: str) -> str:
        return "\n".join(squash.sub(" ", line.strip()) for line in s.replace("\r\n", "\n").split("\n"))

    return bool(old.strip()) and norm(old) in norm(text)


def has_line_number_prefixes(old: str) -> bool:
    """read_file's `     12\\t` prefixes pasted into old_text are a common, easily fixed mistake."""
    lines = [line for line in old.split("\n") if line.strip()]
    return bool(lines) and all(_LINE_NUMBER_PREFIX.match(line) for line in lines)
