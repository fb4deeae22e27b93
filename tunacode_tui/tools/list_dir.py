"""list_dir: a folder's contents, folders first, with sizes; cached until the folder changes."""

from __future__ import annotations

import asyncio
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

from tunacode_tui.tools.args import check_known, get_bool, get_int, get_str
from tunacode_tui.tools.base import Tool, ToolContext, ToolError, ToolOutput
from tunacode_tui.tools.paths import allowed_roots, display_path, inside_allowed, resolve_path
from tunacode_tui.tools.read_cache import get_read_cache

Kind = Literal["dir", "file", "other", "broken"]


@dataclass(frozen=True, slots=True)
class DirEntry:
    name: str
    kind: Kind
    size: int
    link: str | None  # symlink target as written, if the entry is a link
    outside: bool = False  # a link whose target lies outside the allowed folders: no size shown


class ListDirTool(Tool):
    """Shows one folder level so the model can orient itself before reading or globbing."""

    name: ClassVar[str] = "list_dir"
    description: ClassVar[str] = (
        "List a folder: subfolders first (with a trailing /), then files with sizes. Hidden entries are "
        "left out unless show_hidden=true. Use glob to find files deeper down."
    )
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "path": {"type": "string", "description": "Folder to list (default: project root)."},
            "max_entries": {"type": "integer", "minimum": 1, "maximum": 5000, "default": 200},
            "show_hidden": {"type": "boolean", "default": False},
        },
        "required": [],
        "additionalProperties": False,
    }
    read_only: ClassVar[bool] = True

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        check_known(args, self.name, ("path", "max_entries", "show_hidden"))
        path_arg = get_str(args, "path", ".")
        max_entries = get_int(args, "max_entries", 200, minimum=1, maximum=5000)
        show_hidden = get_bool(args, "show_hidden", False)
        folder = resolve_path(ctx, path_arg, for_write=False)
        try:
            st = folder.stat()
        except FileNotFoundError:
            raise ToolError(f"Folder not found: {path_arg}. List its parent to see what exists.") from None
        except OSError as exc:
            raise ToolError(f"Cannot access {path_arg}: {exc.strerror or exc}.") from exc
        if not stat.S_ISDIR(st.st_mode):
            raise ToolError(f"{path_arg} is a file, not a folder. Use read_file to read it.")

        # Keyed by the folder's mtime: adding, removing or renaming an entry changes it. A file growing
        # in place does not, so sizes can lag until the folder changes or we write the file ourselves.
        cache = get_read_cache(ctx)
        entries: list[DirEntry] | None = cache.get_listing(folder, st.st_mtime_ns)
        if entries is None:
            entries = await asyncio.to_thread(scan_dir, folder, allowed_roots(ctx))
            cache.put_listing(folder, st.st_mtime_ns, entries, len(entries))

        visible = [e for e in entries if show_hidden or not e.name.startswith(".")]
        hidden = len(entries) - len(visible)
        shown_path = display_path(ctx, folder)
        dirs = sum(e.kind == "dir" for e in visible)
        lines = [f"{shown_path}/ ({dirs} folders, {len(visible) - dirs} files)"]
        lines += [_format(e) for e in visible[:max_entries]]
        if len(visible) > max_entries:
            lines.append(
                f"[truncated: showing {max_entries} of {len(visible)} entries; pass a larger max_entries "
                "or list a subfolder]"
            )
        if hidden:
            lines.append(f"[{hidden} hidden entries not shown; pass show_hidden=true to see them]")
        metadata = {"entries": len(visible), "truncated": len(visible) > max_entries}
        return ToolOutput("\n".join(lines), metadata=metadata)


def scan_dir(folder: Path, roots: list[Path] | None = None) -> list[DirEntry]:
    """Every entry with its kind and size, folders first then files, by name. Blocking.

    With ``roots``, a symlink whose target lies outside them is listed as such, without its size:
    what read_file would refuse, list_dir must not describe."""
    entries: list[DirEntry] = []
    try:
        with os.scandir(folder) as it:
            for item in it:
                entries.append(_entry(item, roots))
    except OSError as exc:
        raise ToolError(f"Cannot list {folder}: {exc.strerror or exc}.") from exc
    entries.sort(key=lambda e: (e.kind != "dir", e.name.casefold(), e.name))
    return entries


def _entry(item: os.DirEntry[str], roots: list[Path] | None) -> DirEntry:
    link = None
    try:
        if item.is_symlink():
            link = os.readlink(item.path)
        st = item.stat(follow_symlinks=True)
        if link is not None and roots is not None and not inside_allowed(item.path, roots):
            return DirEntry(item.name, "dir" if stat.S_ISDIR(st.st_mode) else "other", 0, link, outside=True)
    except OSError:
        return DirEntry(item.name, "broken", 0, link)
    if stat.S_ISDIR(st.st_mode):
        kind: Kind = "dir"
    elif stat.S_ISREG(st.st_mode):
        kind = "file"
    else:
        kind = "other"
    return DirEntry(item.name, kind, st.st_size if kind == "file" else 0, link)


def _format(entry: DirEntry) -> str:
    arrow = f" -> {entry.link}" if entry.link is not None else ""
    if entry.outside:
        slash = "/" if entry.kind == "dir" else ""
        return f"{entry.name}{slash}{arrow} (outside the project)"
    if entry.kind == "dir":
        return f"{entry.name}/{arrow}"
    if entry.kind == "broken":
        return f"{entry.name}{arrow} (broken link)"
    if entry.kind == "other":
        return f"{entry.name}{arrow} (special file)"
    return f"{entry.name}{arrow}  {human_size(entry.size)}"


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")
