"""Line windows over text: splitting, numbering, and streaming a window out of a file too big to load.

A 1 GB log must not be read into memory to show 2,000 lines of it, so ``read_window`` seeks by counting
newlines in chunks and counts the total under a time budget ("at least N lines" when it runs out).
"""

from __future__ import annotations

import codecs
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TextIO

from tunacode_tui.tools.base import ToolError
from tunacode_tui.tools.fileio import BINARY_SNIFF_BYTES, bom_encoding, detect_encoding, is_binary

MAX_LINE_CHARS = 2000
# A single line longer than this is not read whole, even in a huge file.
MAX_LINE_BYTES = 64 * 1024
_CHUNK = 1024 * 1024
_SAMPLE = 64 * 1024
COUNT_BUDGET_S = 2.0


@dataclass(frozen=True, slots=True)
class Window:
    """Lines ``offset+1 ..`` of a file, already truncated for display, and what is known of the total."""

    lines: list[str]
    offset: int
    total: int
    total_exact: bool
    encoding: str


def split_lines(text: str) -> list[str]:
    """Split on ``\\n`` only (``str.splitlines`` also splits on form feeds and U+2028, which would
    disagree with every editor's and grep's line numbers); a trailing ``\\r`` is dropped."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def truncate_line(line: str, full_length: int | None = None, unit: str = "chars") -> str:
    length = len(line) if full_length is None else full_length
    if length <= MAX_LINE_CHARS:
        return line
    return f"{line[:MAX_LINE_CHARS]}… [line truncated, {length} {unit}]"


def number_lines(lines: Iterable[str], first: int) -> str:
    """cat -n style: a 6-wide right-aligned line number, a tab, the line."""
    return "\n".join(f"{n:>6}\t{line}" for n, line in enumerate(lines, start=first))


def read_window(path: Path, offset: int, limit: int, *, count_budget_s: float = COUNT_BUDGET_S) -> Window:
    """Stream lines ``offset+1 .. offset+limit`` of a big file without loading it. Blocking: call in a thread."""
    with open(path, "rb") as handle:
        sample = handle.read(_SAMPLE)
        if is_binary(sample[:BINARY_SNIFF_BYTES]):
            raise ToolError(binary_message(path))
        encoding = _guess_encoding(sample)
        if not _ascii_compatible(encoding):
            return _read_window_text(path, encoding, offset, limit, count_budget_s)
        handle.seek(len(codecs.BOM_UTF8) if encoding == "utf-8-sig" else 0)
        codec = "utf-8" if encoding == "utf-8-sig" else encoding
        skipped = _skip_lines(handle, offset)
        if skipped < offset:
            raise _past_end(offset, skipped)
        lines: list[str] = []
        while len(lines) < limit:
            raw = handle.readline(MAX_LINE_BYTES)
            if not raw:
                break
            lines.append(_decode_line(handle, raw, codec))
        if len(lines) < limit:
            return Window(lines, offset, offset + len(lines), True, encoding)
        rest, exact = _count_rest(handle, count_budget_s)
        return Window(lines, offset, offset + len(lines) + rest, exact, encoding)


def binary_message(path: Path | str) -> str:
    return (
        f"{path} looks like a binary file (NUL bytes or control characters), so read_file will not show "
        "it. Inspect it with bash instead, e.g. `file` or `xxd | head`."
    )


def _past_end(offset: int, total: int) -> ToolError:
    return ToolError(
        f"offset={offset} is past the end of the file, which has {total} lines. Use an offset below {total}."
    )


def _guess_encoding(sample: bytes) -> str:
    bom = bom_encoding(sample)
    if bom is not None:
        return bom
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        return detect_encoding(sample) or "latin-1"


def _ascii_compatible(encoding: str) -> bool:
    if encoding.endswith("+bom"):
        return False
    try:
        return "\n".encode(encoding) == b"\n" and "a".encode(encoding) == b"a"
    except (LookupError, UnicodeError):
        return False


def _skip_lines(handle: BinaryIO, count: int) -> int:
    """Seek past ``count`` newlines; return how many were found (fewer at EOF)."""
    skipped = 0
    while skipped < count:
        chunk = handle.read(_CHUNK)
        if not chunk:
            break
        found = chunk.count(b"\n")
        if skipped + found < count:
            skipped += found
            continue
        pos = -1
        for _ in range(count - skipped):
            pos = chunk.index(b"\n", pos + 1)
        handle.seek(pos + 1 - len(chunk), 1)
        return count
    # A last line without a newline still counts as a line.
    if skipped < count and handle.tell() > 0:
        handle.seek(-1, 1)
        if handle.read(1) != b"\n":
            skipped += 1
    return skipped


def _decode_line(handle: BinaryIO, raw: bytes, codec: str) -> str:
    if raw.endswith(b"\n") or len(raw) < MAX_LINE_BYTES:
        text = raw.rstrip(b"\n").removesuffix(b"\r").decode(codec, errors="backslashreplace")
        return truncate_line(text)
    # An enormous line: skip the rest of it and report its size in bytes (we never decode it all).
    extra = 0
    while True:
        chunk = handle.read(_CHUNK)
        if not chunk:
            break
        newline = chunk.find(b"\n")
        if newline >= 0:
            extra += newline
            handle.seek(newline + 1 - len(chunk), 1)
            break
        extra += len(chunk)
    text = raw[: MAX_LINE_CHARS * 4].decode(codec, errors="backslashreplace")
    return truncate_line(text[: MAX_LINE_CHARS + 1], len(raw) + extra, "bytes")


def _count_rest(handle: BinaryIO, budget_s: float) -> tuple[int, bool]:
    deadline = time.monotonic() + budget_s
    count = 0
    last = b"\n"
    while True:
        chunk = handle.read(_CHUNK)
        if not chunk:
            return count + (0 if last == b"\n" else 1), True
        count += chunk.count(b"\n")
        last = chunk[-1:]
        if time.monotonic() > deadline:
            return count, False


def _read_window_text(path: Path, encoding: str, offset: int, limit: int, budget_s: float) -> Window:
    # UTF-16/32: newline bytes are not b"\n", so let the text layer split lines.
    codec = encoding
    if encoding.endswith("+bom"):
        codec = encoding.removesuffix("+bom").rsplit("-", 1)[0]  # "utf-16-le+bom" -> BOM-aware "utf-16"
    deadline = time.monotonic() + budget_s
    with open(path, encoding=codec, errors="backslashreplace", newline="\n") as handle:
        for index in range(offset):
            if _read_text_line(handle) is None:
                raise _past_end(offset, index)
        lines: list[str] = []
        while len(lines) < limit:
            line = _read_text_line(handle)
            if line is None:
                return Window(lines, offset, offset + len(lines), True, encoding)
            lines.append(line)
        rest = 0
        while _read_text_line(handle) is not None:
            rest += 1
            if rest % 4096 == 0 and time.monotonic() > deadline:
                return Window(lines, offset, offset + len(lines) + rest, False, encoding)
        return Window(lines, offset, offset + len(lines) + rest, True, encoding)


def _read_text_line(handle: TextIO) -> str | None:
    """One display-ready line, or None at EOF; an enormous line is skipped past, not held in memory."""
    size = MAX_LINE_CHARS * 8
    line = handle.readline(size)
    if not line:
        return None
    if line.endswith("\n") or len(line) < size:
        return truncate_line(line.rstrip("\n").removesuffix("\r"))
    length = len(line)
    while True:
        more = handle.readline(size)
        length += len(more)
        if not more or more.endswith("\n"):
            break
    return truncate_line(line[: MAX_LINE_CHARS + 1], length - 1 if more.endswith("\n") else length)
