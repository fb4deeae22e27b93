"""glob: find files by name pattern, newest first, skipping ignored and junk folders."""

from __future__ import annotations

import asyncio
import os
import re
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from tunacode_tui.tools.args import check_known, get_str, require_str
from tunacode_tui.tools.base import Tool, ToolContext, ToolError, ToolOutput
from tunacode_tui.tools.gitignore import compile_glob
from tunacode_tui.tools.paths import allowed_roots, display_path, inside_allowed, resolve_path
from tunacode_tui.tools.walk import JUNK_DIRS, walk_files

MAX_RESULTS = 5000
# Files examined before giving up, so `**/*` on a huge tree still answers.
MAX_SCANNED = 200_000
_WILDCARD = re.compile(r"[*?\[{]")


@dataclass(frozen=True, slots=True)
class _Scan:
    matches: list[Path]
    scanned_all: bool


class GlobTool(Tool):
    """Lists files whose path (relative to ``path``) matches a glob, most recently modified first."""

    name: ClassVar[str] = "glob"
    description: ClassVar[str] = (
        "Find files by glob pattern, relative to `path` (default: project root). `*` matches within one "
        "folder, `**` across folders: use `**/*.py` for every Python file, `src/*.ts` for one folder. "
        "Braces work: `**/*.{js,ts}`. Respects .gitignore, skips hidden files (unless the pattern names a "
        "dot-folder) and folders like node_modules. Results are newest first."
    )
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "pattern": {"type": "string", "description": "Glob pattern, e.g. `**/*.py`."},
            "path": {"type": "string", "description": "Folder to search from (default: project root)."},
        },
        "required": ["pattern"],
        "additionalProperties": False,
    }
    read_only: ClassVar[bool] = True

    def __init__(self, *, max_results: int = MAX_RESULTS, max_scanned: int = MAX_SCANNED) -> None:
        self.max_results = max_results
        self.max_scanned = max_scanned

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        check_known(args, self.name, ("pattern", "path"))
        pattern = require_str(args, "pattern", allow_empty=False).strip()
        path_arg = get_str(args, "path", ".")
        base = resolve_path(ctx, path_arg, for_write=False)
        if not base.is_dir():
            raise ToolError(f"{path_arg} is not a folder. Pass a folder as `path` and the file pattern as `pattern`.")
        pattern = _relative_pattern(pattern, base)
        try:
            matcher = compile_glob(pattern)
        except re.error as exc:
            raise ToolError(f"Invalid glob {pattern!r}: {exc}.") from exc
        root = Path(ctx.root).resolve()
        ignore_root = root if base.is_relative_to(root) else base
        scan = await asyncio.to_thread(self._scan, base, ignore_root, pattern, matcher, allowed_roots(ctx))
        shown = [display_path(ctx, p) for p in scan.matches[: self.max_results]]
        metadata = {"matches": len(scan.matches), "truncated": len(scan.matches) > self.max_results}
        if not shown:
            return ToolOutput(f"No files match {pattern!r} in {path_arg}.", metadata=metadata)
        notes: list[str] = []
        if len(scan.matches) > self.max_results:
            notes.append(
                f"[truncated: showing {self.max_results} of {len(scan.matches)} matches (newest first); "
                "narrow the pattern]"
            )
        if not scan.scanned_all:
            notes.append(f"[stopped after examining {self.max_scanned:,} files; narrow the pattern or path]")
        return ToolOutput("\n".join([*shown, "", *notes] if notes else shown), metadata=metadata)

    def _scan(
        self, base: Path, ignore_root: Path, pattern: str, matcher: re.Pattern[str], roots: list[Path]
    ) -> _Scan:
        segments = pattern.split("/")
        # Start below the literal prefix (`src/app/**/*.ts` walks only src/app) and bound the depth
        # when there is no `**`.
        literal = 0
        while literal < len(segments) - 1 and not _WILDCARD.search(segments[literal]):
            literal += 1
        start = base.joinpath(*segments[:literal])
        if not start.is_dir():
            return _Scan([], True)
        if not inside_allowed(start, roots):
            # A symlinked folder that leads out of the project: resolve_path would refuse its files,
            # so listing them here would leak what read_file guards.
            raise ToolError(
                f"{start.relative_to(base).as_posix()} is a link to a folder outside the project; glob does not "
                "follow it. Search inside the project instead."
            )
        rest = segments[literal:]
        max_depth = None if any("**" in s for s in rest) else len(rest) - 1
        include_hidden = any(s.startswith(".") and s not in (".", "..") for s in segments)
        found: list[tuple[int, str, Path]] = []
        listed = _rg_files(start, include_hidden, max_depth)
        if listed is not None:
            # Fast path: rg's paths are strings relative to ``start``; stay in strings until a match.
            prefix = start.relative_to(base).as_posix() + "/" if start != base else ""
            for line in listed[: self.max_scanned]:
                rel = prefix + line
                if matcher.match(rel):
                    mtime = _mtime_inside(start / line, roots)
                    if mtime is not None:
                        found.append((mtime, rel, base / rel))
            return _Scan(_newest_first(found), len(listed) <= self.max_scanned)
        walk = walk_files(start, ignore_root, include_hidden=include_hidden, include_links=True, max_depth=max_depth)
        for scanned, path in enumerate(walk, start=1):
            if scanned > self.max_scanned:
                return _Scan(_newest_first(found), False)
            rel = path.relative_to(base).as_posix()
            if matcher.match(rel):
                mtime = _mtime_inside(path, roots)
                if mtime is not None:
                    found.append((mtime, rel, path))
        return _Scan(_newest_first(found), True)


def _mtime_inside(path: Path, roots: list[Path]) -> int | None:
    """The file's mtime, or None when it is gone or is a link leading outside the allowed folders.

    Neither walk descends into linked folders, so only the file itself can be a link: the cheap lstat
    decides, and only links pay for a resolve."""
    try:
        st = os.lstat(path)
        if stat.S_ISLNK(st.st_mode):
            if not inside_allowed(path, roots):
                return None
            st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns


def _rg_files(start: Path, include_hidden: bool, max_depth: int | None) -> list[str] | None:
    """List files with ``rg --files``: native, multi-threaded and .gitignore-exact, several times faster
    than walking in Python on large trees. ``None`` (use the Python walk) when rg is unavailable."""
    from tunacode_tui.tools.grep import find_rg

    rg = find_rg()
    if rg is None or os.environ.get("TUNACODE_GREP_BACKEND") == "python":
        return None
    # No --follow: a symlinked folder may point outside the project (or at /); the Python walk does not
    # descend into linked folders either.
    cmd = [rg, "--files", "--no-require-git", "--no-messages"]
    if include_hidden:
        cmd.append("--hidden")
    if max_depth is not None:
        cmd += ["--max-depth", str(max_depth + 1)]
    for junk in sorted(JUNK_DIRS):
        cmd += ["-g", f"!{junk}/"]
    try:
        proc = subprocess.run(cmd, cwd=start, capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode not in (0, 1):
        return None
    return [line.removeprefix("./") for line in os.fsdecode(proc.stdout).splitlines() if line]


def _newest_first(found: list[tuple[int, str, Path]]) -> list[Path]:
    found.sort(key=lambda item: (-item[0], item[1]))
    return [path for _, _, path in found]


def _relative_pattern(pattern: str, base: Path) -> str:
    if Path(pattern).is_absolute():
        prefix = base.as_posix().rstrip("/") + "/"
        if not pattern.startswith(prefix):
            raise ToolError(
                f"The pattern {pattern!r} is absolute and not under {base}. Pass a relative pattern and "
                "set `path` to the folder to search."
            )
        pattern = pattern[len(prefix) :]
    while pattern.startswith("./"):
        pattern = pattern[2:]
    if ".." in pattern.split("/"):
        raise ToolError("The pattern may not contain '..'. Set `path` to the folder to search instead.")
    return pattern
