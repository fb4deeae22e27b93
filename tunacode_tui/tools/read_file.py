"""read_file: numbered lines of a text file, paged, cached, safe on binaries and multi-GB files."""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path
from typing import Any, ClassVar

from tunacode_tui.tools.args import check_known, get_int, require_str
from tunacode_tui.tools.base import Tool, ToolContext, ToolError, ToolOutput
from tunacode_tui.tools.file_window import (
    COUNT_BUDGET_S,
    Window,
    binary_message,
    number_lines,
    read_window,
    split_lines,
    truncate_line,
)
from tunacode_tui.tools.fileio import BINARY_SNIFF_BYTES, decode_text, is_binary
from tunacode_tui.tools.paths import display_path, resolve_path
from tunacode_tui.tools.read_cache import CachedText, get_file_hashes, get_read_cache, stat_token

DEFAULT_LIMIT = 2000
MAX_LIMIT = 10_000
# Above this size a file is streamed for the requested window instead of loaded and cached.
HUGE_FILE_BYTES = 8 * 1024 * 1024


class ReadFileTool(Tool):
    """Shows a window of a text file with line numbers, the form update_file's old_text is copied from."""

    name: ClassVar[str] = "read_file"
    description: ClassVar[str] = (
        "Read a text file. Returns lines numbered like `cat -n` (number, tab, line); the number prefix is not "
        "part of the file. Reads up to `limit` lines starting after `offset` lines; a note at the end says how "
        "to read further. Binary files are refused. Read a file before editing it with update_file."
    )
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "file_path": {"type": "string", "description": "Path to the file, relative to the project root."},
            "offset": {
                "type": "integer",
                "description": "Number of lines to skip before the first line shown (0 = from the top).",
                "minimum": 0,
                "default": 0,
            },
            "limit": {
                "type": "integer",
                "description": f"Maximum number of lines to show (at most {MAX_LIMIT}).",
                "minimum": 1,
                "maximum": MAX_LIMIT,
                "default": DEFAULT_LIMIT,
            },
        },
        "required": ["file_path"],
        "additionalProperties": False,
    }
    read_only: ClassVar[bool] = True

    def __init__(self, *, huge_file_bytes: int = HUGE_FILE_BYTES, count_budget_s: float = COUNT_BUDGET_S) -> None:
        self.huge_file_bytes = huge_file_bytes
        self.count_budget_s = count_budget_s

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        check_known(args, self.name, ("file_path", "offset", "limit"))
        file_path = require_str(args, "file_path", allow_empty=False)
        offset = get_int(args, "offset", 0, minimum=0)
        limit = get_int(args, "limit", DEFAULT_LIMIT, minimum=1, maximum=MAX_LIMIT)
        path = resolve_path(ctx, file_path, for_write=False)
        st = stat_regular_file(path, file_path)
        shown = display_path(ctx, path)

        if st.st_size > self.huge_file_bytes:
            window = await asyncio.to_thread(read_window, path, offset, limit, count_budget_s=self.count_budget_s)
            if not window.lines and window.total > 0:
                raise _past_end(offset, shown, window.total)
            # Too big to hash on every read: note what identifies this version, so update_file can
            # still refuse an edit based on it once the file changes.
            get_file_hashes(ctx)[str(path)] = stat_token((st.st_ino, st.st_size, st.st_mtime_ns))
            return self._render(shown, window, cached=False, size=st.st_size)

        cache = get_read_cache(ctx)
        entry = cache.get_text(path, st.st_mtime_ns, st.st_size)
        if entry is None:
            loaded, st = await asyncio.to_thread(load_text, path, shown)
            cache.put_text(path, st.st_mtime_ns, st.st_size, loaded)
            entry = loaded
        get_file_hashes(ctx)[str(path)] = entry.sha256
        total = len(entry.lines)
        if offset >= total > 0:
            raise ToolError(
                f"offset={offset} is past the end of {shown}, which has {total} lines. Use an offset below {total}."
            )
        lines = [truncate_line(line) for line in entry.lines[offset : offset + limit]]
        window = Window(lines, offset, total, True, entry.encoding)
        return self._render(shown, window, cached=True, size=entry.size)

    def _render(self, shown: str, window: Window, *, cached: bool, size: int) -> ToolOutput:
        metadata: dict[str, Any] = {
            "path": shown,
            "encoding": window.encoding,
            "lines_shown": len(window.lines),
            "total_lines": window.total,
            "total_exact": window.total_exact,
            "streamed": not cached,
        }
        if not window.lines:
            return ToolOutput(f"[{shown} is empty.]", metadata=metadata)
        first = window.offset + 1
        last = window.offset + len(window.lines)
        body = number_lines(window.lines, first)
        total = str(window.total) if window.total_exact else f"at least {window.total}"
        if last < window.total or not window.total_exact:
            note = f"[Showing lines {first}-{last} of {total}. Use offset={last} to read more.]"
        elif first > 1:
            note = f"[Showing lines {first}-{last} of {total} (end of file).]"
        else:
            note = ""
        if not cached:
            note += f"\n[{shown} is {size / 1024 / 1024:.0f} MiB; it was streamed, not loaded whole.]"
        return ToolOutput(f"{body}\n\n{note.strip()}" if note else body, metadata=metadata)


def _past_end(offset: int, shown: str, total: int) -> ToolError:
    return ToolError(
        f"offset={offset} is past the end of {shown}, which has {total} lines. Use an offset below {total}."
    )


def stat_regular_file(path: Path, given: str) -> os.stat_result:
    """stat a path a tool is about to read, turning the usual mistakes into actionable errors."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise ToolError(f"File not found: {given}. Check the path with glob or list_dir.") from None
    except OSError as exc:
        raise ToolError(f"Cannot access {given}: {exc.strerror or exc}.") from exc
    if path.is_dir():
        raise ToolError(f"{given} is a directory, not a file. Use list_dir to see what it contains.")
    if not path.is_file():
        raise ToolError(f"{given} is not a regular file (a device, socket or pipe); it cannot be read.")
    return st


def load_text(path: Path, shown: str | None = None) -> tuple[CachedText, os.stat_result]:
    """Read, sniff, decode and hash a whole file. Blocking: call in a thread.

    The stat comes from the open descriptor, so the cache key describes the bytes actually read.
    """
    try:
        with open(path, "rb") as handle:
            st = os.fstat(handle.fileno())
            data = handle.read()
    except OSError as exc:
        raise ToolError(f"Cannot read {shown or path}: {exc.strerror or exc}.") from exc
    if is_binary(data[:BINARY_SNIFF_BYTES]):
        raise ToolError(binary_message(shown or path))
    text, encoding = decode_text(path, data, stat_result=st)
    entry = CachedText(tuple(split_lines(text)), encoding, hashlib.sha256(data).hexdigest(), len(data))
    return entry, st
