"""The pure-Python grep backend, for machines without ripgrep.

Same contract and output as the ripgrep backend: .gitignore respected, junk folders and binaries
skipped, long lines cut at 500 chars. Runs in a thread and checks a stop flag and its deadlines
between files, since a thread cannot be killed.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tunacode_tui.tools.base import ToolError
from tunacode_tui.tools.file_window import split_lines
from tunacode_tui.tools.fileio import BINARY_SNIFF_BYTES, bom_encoding, decode_text, is_binary
from tunacode_tui.tools.gitignore import compile_glob, expand_braces
from tunacode_tui.tools.walk import walk_files

MAX_FILES = 10_000
MAX_FILE_BYTES = 32 * 1024 * 1024
MAX_COLUMNS = 500
LONG_LINE_MARKER = " [... omitted end of long line]"


@dataclass(frozen=True, slots=True)
class GrepLine:
    """One output line: a match or a context line, with the path as the model should see it."""

    path: str
    line_number: int
    text: str
    is_match: bool


@dataclass(slots=True)
class GrepResult:
    lines: list[GrepLine] = field(default_factory=list)
    matches: int = 0
    truncated: bool = False
    # None, "first_match_timeout", "timeout" or "file_cap".
    stopped: str | None = None
    warning: str | None = None


@dataclass(frozen=True, slots=True)
class IncludeFilter:
    """An rg-style ``-g`` glob: no slash matches the file name, a slash matches the relative path,
    a leading ``!`` excludes."""

    regex: re.Pattern[str]
    by_name: bool
    exclude: bool

    @classmethod
    def parse(cls, glob: str) -> IncludeFilter:
        exclude = glob.startswith("!")
        body = glob[1:] if exclude else glob
        by_name = all("/" not in p for p in expand_braces(body))
        return cls(compile_glob(body.lstrip("/")), by_name, exclude)

    def accepts(self, rel: str) -> bool:
        target = rel.rsplit("/", 1)[-1] if self.by_name else rel
        return (self.regex.match(target) is not None) != self.exclude


def search(
    target: Path,
    ignore_root: Path,
    regex: re.Pattern[str],
    *,
    include: IncludeFilter | None,
    context: int,
    max_results: int,
    display: Callable[[Path], str],
    first_match_timeout: float,
    timeout: float,
    stop: threading.Event,
) -> GrepResult:
    """Search files under ``target``. Blocking: run in a thread and set ``stop`` to abandon it."""
    result = GrepResult()
    started = time.monotonic()
    files: Iterable[Path] = [target] if target.is_file() else walk_files(target, ignore_root, should_stop=stop.is_set)
    searched = 0
    for path in files:
        elapsed = time.monotonic() - started
        if stop.is_set() or elapsed > timeout:
            result.stopped = "timeout"
            break
        if result.matches == 0 and elapsed > first_match_timeout:
            result.stopped = "first_match_timeout"
            break
        if include is not None and path != target and not include.accepts(_rel(path, target)):
            continue
        searched += 1
        if searched > MAX_FILES:
            result.stopped = "file_cap"
            break
        lines = _read_lines(path)
        if lines is not None and not _search_file(lines, display(path), regex, context, max_results, result):
            break
    return result


def _search_file(
    lines: list[str], shown: str, regex: re.Pattern[str], context: int, max_results: int, result: GrepResult
) -> bool:
    """Append this file's matches (with context) to ``result``; False once the cap is passed."""
    hits: list[int] = []
    for index, line in enumerate(lines):
        if regex.search(line):
            if result.matches + len(hits) >= max_results:
                result.truncated = True
                break
            hits.append(index)
    if hits:
        hit_set = set(hits)
        emitted = -1
        for hit in hits:
            for index in range(max(hit - context, emitted + 1), min(hit + context, len(lines) - 1) + 1):
                result.lines.append(GrepLine(shown, index + 1, _clip(lines[index]), index in hit_set))
                emitted = index
        result.matches += len(hits)
    return not result.truncated


def _read_lines(path: Path) -> list[str] | None:
    try:
        if not path.is_file() or path.stat().st_size > MAX_FILE_BYTES:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    if is_binary(data[:BINARY_SNIFF_BYTES]):
        return None
    if bom_encoding(data) is not None:
        try:
            text = decode_text(path, data)[0]
        except (ToolError, UnicodeError):  # an undecodable file is skipped, as rg would
            return None
    else:
        text = data.decode("utf-8", errors="backslashreplace")
    return split_lines(text)


def _clip(line: str) -> str:
    return line if len(line) <= MAX_COLUMNS else line[:MAX_COLUMNS] + LONG_LINE_MARKER


def _rel(path: Path, base: Path) -> str:
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return path.name
