"""Checkpoints: what each turn's file tools changed, so ``/undo`` can put it back safely.

Before the first change to a file in a turn, its prior bytes (or "did not exist") are saved. After each
change the new content's hash is noted. ``/undo`` restores the last turn's files and removes the files
it created, but never touches a file whose content changed since (by the user, an editor or bash):
those are reported instead of overwritten.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tunacode_tui.tools.base import ToolContext, ToolError
from tunacode_tui.tools.fileio import atomic_write
from tunacode_tui.tools.paths import resolve_path

FILE_TOOLS = ("write_file", "update_file")


# update_file refuses files larger than this; a checkpoint need not hold more.
MAX_CHECKPOINT_BYTES = 64 * 1024 * 1024


def _digest(path: Path) -> str | None:
    """SHA-256 of a file, read in chunks (a big file must not be held twice just to hash it)."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(1024 * 1024):
                digest.update(chunk)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None
    return digest.hexdigest()


@dataclass(slots=True)
class FileCheckpoint:
    path: Path
    before: bytes | None  # None: the file did not exist
    before_hash: str | None = None
    after_hash: str | None = None
    mode: int | None = None

    @property
    def changed(self) -> bool:
        return self.after_hash != self.before_hash


@dataclass(slots=True)
class TurnCheckpoint:
    turn: int
    files: dict[Path, FileCheckpoint] = field(default_factory=dict)


@dataclass(slots=True)
class UndoReport:
    restored: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # changed by something else since

    def summary(self) -> str:
        if not (self.restored or self.removed or self.skipped):
            return "Nothing to undo."
        parts = []
        if self.restored:
            parts.append("restored " + ", ".join(self.restored))
        if self.removed:
            parts.append("removed " + ", ".join(self.removed))
        if self.skipped:
            parts.append("left alone (changed since): " + ", ".join(self.skipped))
        return "Undo: " + "; ".join(parts) + "."


class Checkpoints:
    """Kept in ``ToolContext.services['checkpoints']``; the loop calls ``begin_turn`` per user prompt.

    ``before_change`` reads the file, so the executor runs it in a thread; only regular files (or
    absent ones) up to ``MAX_CHECKPOINT_BYTES`` are saved: a FIFO or a device must never be opened here.
    """

    def __init__(self) -> None:
        self.turns: list[TurnCheckpoint] = []
        self._turn = 0

    def begin_turn(self) -> None:
        self._turn += 1

    def _current(self) -> TurnCheckpoint:
        if not self.turns or self.turns[-1].turn != self._turn:
            self.turns.append(TurnCheckpoint(self._turn))
        return self.turns[-1]

    def before_change(self, tool: str, args: dict[str, Any], ctx: ToolContext) -> Path | None:
        if tool not in FILE_TOOLS or not isinstance(args.get("file_path"), str):
            return None
        try:
            path = resolve_path(ctx, args["file_path"], for_write=True)
        except (ToolError, OSError, ValueError):
            return None  # the tool itself will refuse and say why
        turn = self._current()
        if path in turn.files:
            return path
        try:
            info = os.stat(path)
        except FileNotFoundError:
            turn.files[path] = FileCheckpoint(path, None)
            return path
        except OSError:
            return None
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_CHECKPOINT_BYTES:
            return None  # the tool refuses these; nothing to save
        try:
            before = path.read_bytes()
        except OSError:
            return None
        turn.files[path] = FileCheckpoint(path, before, hashlib.sha256(before).hexdigest(),
                                          mode=stat.S_IMODE(info.st_mode))
        return path

    def after_change(self, path: Path | None) -> None:
        """Called after every attempt, successful or not, cancelled or not: the disk decides."""
        if path is None:
            return
        for turn in reversed(self.turns):
            if path in turn.files:
                turn.files[path].after_hash = _digest(path)
                return

    def undo(self, ctx: ToolContext) -> UndoReport:
        report = UndoReport()
        while self.turns and not any(cp.changed for cp in self.turns[-1].files.values()):
            self.turns.pop()  # turns whose attempts all failed left nothing to undo
        if not self.turns:
            return report
        turn = self.turns.pop()
        for path, cp in turn.files.items():
            if not cp.changed:
                continue
            shown = os.path.relpath(path, ctx.root)
            if _digest(path) != cp.after_hash:
                report.skipped.append(shown)
                continue
            if cp.before is None:
                path.unlink(missing_ok=True)
                report.removed.append(shown)
            else:
                atomic_write(path, cp.before)
                if cp.mode is not None:
                    os.chmod(path, cp.mode)
                report.restored.append(shown)
            cache = ctx.services.get("read_cache")
            if cache is not None and hasattr(cache, "invalidate"):
                cache.invalidate(path)
            # file_hashes still holds what the model last saw (the undone version), so its next
            # update_file is refused as stale until it reads the file again: exactly right.
        return report
