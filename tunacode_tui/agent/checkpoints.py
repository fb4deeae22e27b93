"""Checkpoints: what each turn's file tools changed, so ``/undo`` can put it back safely.

Before the first change to a file in a turn, its prior bytes (or "did not exist") are saved. After each
change the new content's hash is noted. ``/undo`` restores the last turn's files and removes the files
it created, but never touches a file whose content changed since (by the user, an editor or bash):
those are reported instead of overwritten.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tunacode_tui.tools.base import ToolContext, ToolError
from tunacode_tui.tools.fileio import atomic_write
from tunacode_tui.tools.paths import resolve_path

FILE_TOOLS = ("write_file", "update_file")


def _digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


@dataclass(slots=True)
class FileCheckpoint:
    path: Path
    before: bytes | None  # None: the file did not exist
    after_hash: str | None = None
    mode: int | None = None


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
    """Kept in ``ToolContext.services['checkpoints']``; the loop calls ``begin_turn`` per user prompt."""

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
        except ToolError:
            return None  # the tool itself will refuse and say why
        turn = self._current()
        if path not in turn.files:
            try:
                before: bytes | None = path.read_bytes()
                mode = os.stat(path).st_mode & 0o7777
            except (FileNotFoundError, IsADirectoryError):
                before, mode = None, None
            turn.files[path] = FileCheckpoint(path, before, mode=mode)
        return path

    def after_change(self, path: Path | None) -> None:
        if path is None:
            return
        turn = self._current()
        if path in turn.files:
            turn.files[path].after_hash = _digest(path)

    def undo(self, ctx: ToolContext) -> UndoReport:
        report = UndoReport()
        while self.turns and not any(cp.after_hash for cp in self.turns[-1].files.values()):
            self.turns.pop()  # turns whose changes all failed left nothing to undo
        if not self.turns:
            return report
        turn = self.turns.pop()
        for path, cp in turn.files.items():
            if cp.after_hash is None and cp.before is not None:
                continue  # the change never happened
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
