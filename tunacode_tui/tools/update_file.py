"""update_file: replace exact text in an existing file, keeping its encoding, line endings and mode.

Exact matching (no fuzzy apply) keeps edits predictable; when the match fails the error shows the most
similar region so the model can retry with the real text.
"""

from __future__ import annotations

import asyncio
import codecs
import functools
import hashlib
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from tunacode_tui.tools.args import check_known, get_bool, require_str
from tunacode_tui.tools.base import Tool, ToolContext, ToolError, ToolOutput
from tunacode_tui.tools.closest_match import find_closest, has_line_number_prefixes, whitespace_only_difference
from tunacode_tui.tools.diffs import cap_diff, region_diff, unified_diff
from tunacode_tui.tools.file_window import binary_message, number_lines, split_lines
from tunacode_tui.tools.fileio import (
    BINARY_SNIFF_BYTES,
    atomic_write,
    bom_encoding,
    decode_text,
    encode_chunks,
    is_binary,
    stat_signature,
)
from tunacode_tui.tools.paths import display_path, resolve_path
from tunacode_tui.tools.read_cache import STAT_PREFIX, get_file_hashes, get_read_cache, stat_token
from tunacode_tui.tools.settle import settle_in_thread

MAX_EDIT_BYTES = 64 * 1024 * 1024
_EXCERPT_CONTEXT = 2
_MAX_LISTED_LINES = 10


_WHOLE_DIFF_CHARS = 1024 * 1024
_UTF8_CHECK_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class _Edit:
    replacements: int
    first_line: int
    new_hash: str
    diff: str


class UpdateFileTool(Tool):
    """Edits a file by exact text replacement; the stale-write guard refuses edits to a file that changed
    since the model last read it."""

    name: ClassVar[str] = "update_file"
    description: ClassVar[str] = (
        "Edit an existing file by replacing `old_text` with `new_text`. `old_text` must match the file "
        "exactly (whitespace and indentation included, without read_file's line-number prefixes) and must "
        "be unique unless replace_all=true: include a few surrounding lines to make it unique. Line endings "
        "and encoding are preserved. Read the file first; if it changed on disk since, read it again."
    )
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "file_path": {"type": "string", "description": "Path to the file, relative to the project root."},
            "old_text": {"type": "string", "description": "Exact text to replace."},
            "new_text": {"type": "string", "description": "Replacement text."},
            "replace_all": {
                "type": "boolean",
                "description": "Replace every occurrence instead of requiring exactly one.",
                "default": False,
            },
        },
        "required": ["file_path", "old_text", "new_text"],
        "additionalProperties": False,
    }
    read_only: ClassVar[bool] = False

    async def preview(self, args: dict[str, Any], ctx: ToolContext) -> str:
        """The exact diff this call would make, computed without writing (for the permission prompt)."""
        return await _preview(args, ctx)

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        check_known(args, self.name, ("file_path", "old_text", "new_text", "replace_all"))
        file_path = require_str(args, "file_path", allow_empty=False)
        old_text = require_str(args, "old_text")
        new_text = require_str(args, "new_text")
        replace_all = get_bool(args, "replace_all", False)
        if not old_text:
            raise ToolError("old_text is empty. To create a file use write_file; to edit, quote existing text.")
        if old_text == new_text:
            raise ToolError("old_text and new_text are identical, so there is nothing to change.")
        path = resolve_path(ctx, file_path, for_write=True)
        shown = display_path(ctx, path)
        hashes = get_file_hashes(ctx)
        expected = hashes.get(str(path))
        edit = await settle_in_thread(
            lambda stop: _apply(path, shown, old_text, new_text, replace_all, expected, stop)
        )
        get_read_cache(ctx).invalidate(path)
        hashes[str(path)] = edit.new_hash
        diff = edit.diff
        where = f"line {edit.first_line}" if edit.replacements == 1 else f"first at line {edit.first_line}"
        plural = "occurrence" if edit.replacements == 1 else "occurrences"
        summary = f"Updated {shown}: replaced {edit.replacements} {plural} ({where})."
        return ToolOutput(
            f"{summary}\n\n{cap_diff(diff)}",
            display=diff,
            metadata={"path": shown, "replacements": edit.replacements},
        )


async def _preview(args: dict[str, Any], ctx: ToolContext) -> str:
    path = resolve_path(ctx, require_str(args, "file_path", allow_empty=False), for_write=True)
    expected = get_file_hashes(ctx).get(str(path))
    plan = await asyncio.to_thread(
        _plan, path, display_path(ctx, path), require_str(args, "old_text"), require_str(args, "new_text"),
        get_bool(args, "replace_all", False), expected,
    )
    return plan.diff


@dataclass(slots=True)
class _Plan:
    payload: Callable[[], Iterable[bytes]]  # the new file's bytes, in pieces
    replacements: int
    first_line: int
    diff: str
    signature: tuple[int, int, int] | None  # the file as read, to notice a change before the rename


def _apply(
    path: Path, shown: str, old: str, new: str, replace_all: bool, expected_hash: str | None, stop: threading.Event
) -> _Edit:
    """Read, check, replace and write. Blocking: runs in a thread (see ``settle_in_thread``)."""
    plan = _plan(path, shown, old, new, replace_all, expected_hash)
    try:
        new_hash = atomic_write(
            path, plan.payload(), stop=stop, unchanged=lambda: stat_signature(path) == plan.signature
        )
    except OSError as exc:
        raise ToolError(f"Cannot write {shown}: {exc.strerror or exc}. The file was not changed.") from exc
    return _Edit(plan.replacements, plan.first_line, new_hash, plan.diff)


def _plan(path: Path, shown: str, old: str, new: str, replace_all: bool, expected_hash: str | None) -> _Plan:
    """Everything but the write: the permission prompt shows this exact diff before anything changes.

    A UTF-8 file (the common case) is edited as bytes: matches are found in the bytes read, and the new
    file is written as slices of them around the replacements, so memory stays near the file's size. Other
    encodings are decoded, replaced as text and encoded again chunk by chunk (about twice the size).
    """
    data, signature = _read(path, shown)
    if expected_hash is not None and not _matches(expected_hash, data, signature):
        raise ToolError(
            f"{shown} changed on disk since you last read it, so this edit may be based on old content. "
            "Read it again with read_file, then redo the edit."
        )
    if is_binary(data[:BINARY_SNIFF_BYTES]):
        raise ToolError(binary_message(path))
    if bom_encoding(data) is None and _is_utf8(data):
        buffer: str | bytes = data
        encoding = "utf-8"
    else:
        buffer, encoding = decode_text(path, data)
    del data
    limit = 0 if replace_all else 1
    old_m, new_m, count = _locate(buffer, old, new)
    if count == 0:
        raise ToolError(_no_match_message(_as_text(buffer), old, shown))
    if count > 1 and not replace_all:
        lines = _match_lines(buffer, old_m)
        listed = ", ".join(map(str, lines[:_MAX_LISTED_LINES])) + (", ..." if count > _MAX_LISTED_LINES else "")
        raise ToolError(
            f"old_text matches {count} times in {shown} (starting at lines {listed}). Include more "
            "surrounding lines in old_text to make it unique, or pass replace_all=true to change all of them."
        )
    first_line = buffer.count(_nl(buffer), 0, buffer.index(old_m)) + 1
    if len(buffer) <= _WHOLE_DIFF_CHARS:
        text = _as_text(buffer)
        diff = unified_diff(text, _as_text(_replace(buffer, old_m, new_m, limit)), shown)
    else:  # difflib over a whole big file costs many times its size in memory: diff the edited regions only
        diff = region_diff(buffer, old_m, new_m, limit, shown)
    payload: Callable[[], Iterable[bytes]]
    if isinstance(buffer, bytes):
        payload = functools.partial(_spliced, buffer, old_m, new_m, limit)
    else:
        payload = functools.partial(encode_chunks, _replace(buffer, old_m, new_m, limit), encoding)
        del buffer  # only the new text is kept until it is written
    return _Plan(payload, count if replace_all else 1, first_line, diff, signature)


def _is_utf8(data: bytes) -> bool:
    """Valid UTF-8, checked in pieces so a big file is never decoded whole just to find out."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    try:
        for start in range(0, len(data), _UTF8_CHECK_BYTES):
            decoder.decode(view[start : start + _UTF8_CHECK_BYTES])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _spliced(data: bytes, old: bytes, new: bytes, limit: int) -> Iterator[bytes]:
    """The edited file as views into ``data`` with ``new`` between them: no second copy of the file.
    UTF-8 is self-synchronising, so a byte match of valid UTF-8 always falls on character boundaries."""
    view = memoryview(data)
    cursor, done = 0, 0
    pos = data.find(old)
    while pos >= 0 and (limit == 0 or done < limit):
        yield view[cursor:pos]  # type: ignore[misc]
        yield new
        cursor = pos + len(old)
        done += 1
        pos = data.find(old, cursor)
    yield view[cursor:]  # type: ignore[misc]


def _replace(buffer: Any, old: Any, new: Any, limit: int) -> Any:
    return buffer.replace(old, new) if limit == 0 else buffer.replace(old, new, limit)


def _as_text(buffer: str | bytes) -> str:
    return buffer if isinstance(buffer, str) else buffer.decode("utf-8")


def _nl(buffer: str | bytes) -> Any:
    return "\n" if isinstance(buffer, str) else b"\n"


def _matches(expected: str, data: bytes, signature: tuple[int, int, int] | None) -> bool:
    """``expected`` is a SHA-256, or (for files read in streamed windows, never hashed whole) a stat
    signature noted by read_file."""
    if expected.startswith(STAT_PREFIX):
        return expected == stat_token(signature)
    return hashlib.sha256(data).hexdigest() == expected


def _read(path: Path, shown: str) -> tuple[bytes, tuple[int, int, int] | None]:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ToolError(f"{shown} does not exist. Use write_file to create it.") from None
    except OSError as exc:
        raise ToolError(f"Cannot access {shown}: {exc.strerror or exc}.") from exc
    if path.is_dir():
        raise ToolError(f"{shown} is a folder, not a file.")
    if not path.is_file():
        raise ToolError(f"{shown} is not a regular file (a pipe, socket or device); it cannot be edited.")
    if size > MAX_EDIT_BYTES:
        raise ToolError(
            f"{shown} is {size // (1024 * 1024)} MiB, too large to edit in memory safely. "
            "Use bash (e.g. sed) for targeted changes."
        )
    try:
        with path.open("rb") as handle:
            data = handle.read()
            st = os.fstat(handle.fileno())
    except OSError as exc:
        raise ToolError(f"Cannot read {shown}: {exc.strerror or exc}.") from exc
    return data, (st.st_ino, st.st_size, st.st_mtime_ns)


def _locate(buffer: Any, old: str, new: str) -> tuple[Any, Any, int]:
    """Match old_text against the file's line endings: models send LF even when the file is CRLF.
    ``buffer`` is the file's text, or its UTF-8 bytes (then the matches come back as bytes too)."""
    as_bytes = not isinstance(buffer, str)

    def as_buffer(text: str) -> Any:
        return text.encode("utf-8") if as_bytes else text

    eol = _dominant_eol(buffer)
    old_eol, new_eol = as_buffer(_with_eol(old, eol)), as_buffer(_with_eol(new, eol))
    count = buffer.count(old_eol)
    if count:
        return old_eol, new_eol, count
    # A mixed-ending file may contain the text exactly as sent.
    return as_buffer(old), as_buffer(new), buffer.count(as_buffer(old))


def _dominant_eol(buffer: Any) -> str:
    crlf = buffer.count("\r\n" if isinstance(buffer, str) else b"\r\n")
    return "\r\n" if crlf and crlf >= buffer.count(_nl(buffer)) - crlf else "\n"


def _with_eol(text: str, eol: str) -> str:
    normalized = text.replace("\r\n", "\n")
    return normalized.replace("\n", eol) if eol != "\n" else normalized


def _match_lines(buffer: Any, needle: Any) -> list[int]:
    lines: list[int] = []
    nl = _nl(buffer)
    start = buffer.find(needle)
    line, pos = 1, 0
    while start >= 0:
        line += buffer.count(nl, pos, start)
        pos = start
        lines.append(line)
        start = buffer.find(needle, start + len(needle))
    return lines


def _no_match_message(text: str, old: str, shown: str) -> str:
    parts = [f"old_text was not found in {shown}."]
    if has_line_number_prefixes(old):
        parts.append(
            "old_text seems to include read_file's line-number prefixes (spaces, a number, a tab); "
            "remove them and send only the file's text."
        )
    elif whitespace_only_difference(text, old):
        parts.append("The text exists but with different whitespace or indentation; copy it exactly.")
    file_lines = split_lines(text)
    old_lines = split_lines(old.replace("\r\n", "\n")) or [old]
    closest = find_closest(file_lines, old_lines)
    if closest is None:
        parts.append("Nothing in the file resembles it. Read the file again to see its current content.")
    else:
        first = max(0, closest.start - _EXCERPT_CONTEXT)
        last = min(len(file_lines), closest.end + _EXCERPT_CONTEXT)
        parts.append(
            f"The most similar region is lines {closest.start + 1}-{closest.end} "
            f"({closest.ratio:.0%} similar):\n{number_lines(file_lines[first:last], first + 1)}\n"
            "Copy the exact text from the file (without the line-number prefixes) and try again."
        )
    return "\n".join(parts)
