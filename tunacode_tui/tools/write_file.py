"""write_file: create a new file (and its folders); never overwrites, so edits go through update_file."""

from __future__ import annotations

import asyncio
import hashlib
import threading
from pathlib import Path
from typing import Any, ClassVar

from tunacode_tui.tools.args import check_known, require_str
from tunacode_tui.tools.base import Tool, ToolContext, ToolError, ToolOutput
from tunacode_tui.tools.diffs import added_diff
from tunacode_tui.tools.file_window import split_lines
from tunacode_tui.tools.fileio import WriteCancelled, atomic_write
from tunacode_tui.tools.paths import display_path, resolve_path
from tunacode_tui.tools.read_cache import get_file_hashes, get_read_cache
from tunacode_tui.tools.settle import settle_in_thread


class WriteFileTool(Tool):
    """Creates files. Refusing to overwrite keeps a model from clobbering work it never read."""

    name: ClassVar[str] = "write_file"
    description: ClassVar[str] = (
        "Create a new file with the given content (UTF-8), creating parent folders as needed. Fails if the "
        "file already exists: use update_file to change an existing file."
    )
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "file_path": {"type": "string", "description": "Path of the new file, relative to the project root."},
            "content": {"type": "string", "description": "The complete file content."},
        },
        "required": ["file_path", "content"],
        "additionalProperties": False,
    }
    read_only: ClassVar[bool] = False

    async def preview(self, args: dict[str, Any], ctx: ToolContext) -> str:
        """The new file as an all-added diff, for the permission prompt."""
        path = resolve_path(ctx, require_str(args, "file_path", allow_empty=False), for_write=True)
        _, display = await asyncio.to_thread(_summarise, require_str(args, "content"), display_path(ctx, path))
        return display

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        check_known(args, self.name, ("file_path", "content"))
        file_path = require_str(args, "file_path", allow_empty=False)
        content = require_str(args, "content")
        path = resolve_path(ctx, file_path, for_write=True)
        shown = display_path(ctx, path)
        data = content.encode("utf-8")
        await settle_in_thread(lambda stop: _create(path, data, file_path, stop))
        get_read_cache(ctx).invalidate(path)
        # The model knows exactly what it wrote, so a later update_file is not "stale".
        get_file_hashes(ctx)[str(path)] = hashlib.sha256(data).hexdigest()
        lines, display = await asyncio.to_thread(_summarise, content, shown)
        return ToolOutput(
            f"Created {shown} ({lines} lines, {len(data)} bytes).",
            display=display,
            metadata={"path": shown, "lines": lines, "bytes": len(data)},
        )


def _create(path: Path, data: bytes, given: str, stop: threading.Event | None = None) -> None:
    exists = _exists_message(given)
    if path.is_dir():
        raise ToolError(f"{given} is a folder; choose a file name inside it.")
    if path.exists() or path.is_symlink():
        raise ToolError(exists)
    if stop is not None and stop.is_set():  # cancelled before anything was made: not even the folders
        raise WriteCancelled("cancelled before the file was created")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise ToolError(
            f"Cannot create {given}: a parent of it is a file, not a folder. Choose another path."
        ) from None
    except OSError as exc:
        raise ToolError(f"Cannot create the folders for {given}: {exc.strerror or exc}.") from exc
    try:
        atomic_write(path, data, exclusive=True, stop=stop)
    except FileExistsError:
        raise ToolError(exists) from None
    except IsADirectoryError:
        raise ToolError(f"{given} is a folder; choose a file name inside it.") from None
    except OSError as exc:
        raise ToolError(f"Cannot write {given}: {exc.strerror or exc}.") from exc


def _summarise(content: str, shown: str) -> tuple[int, str]:
    return len(split_lines(content)), added_diff(content, shown)


def _exists_message(given: str) -> str:
    return (
        f"{given} already exists; write_file only creates new files. Use update_file to change it "
        "(read_file it first), or pick a new path."
    )
