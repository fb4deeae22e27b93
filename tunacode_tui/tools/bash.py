"""bash: run a shell command in the project, confined, time-limited, and never leaving strays behind.

The command runs in its own process group, so a timeout or a cancelled turn kills everything it
started, not only the shell.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import os
import shutil
import signal
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from tunacode_tui.core.provider_table import KEY_VARIABLES
from tunacode_tui.tools.args import check_known, get_number, get_str, require_str
from tunacode_tui.tools.base import Tool, ToolCancelled, ToolContext, ToolError, ToolOutput
from tunacode_tui.tools.paths import resolve_path

DEFAULT_TIMEOUT_S = 120.0
MAX_TIMEOUT_S = 600.0
MAX_OUTPUT_CHARS = 30_000
# After the shell exits, how long a background child may keep the output pipe open.
PIPE_GRACE_S = 0.5
TERM_GRACE_S = 1.0
KILL_WAIT_S = 1.0
SECRET_NAMES = KEY_VARIABLES


# Process groups of the commands running now, so a hang-up can end them even when no await will run again.
_RUNNING_GROUPS: set[int] = set()


def kill_running_commands() -> int:
    """SIGKILL the process group of every command still running; returns how many. Synchronous and
    signal-safe enough for a SIGHUP handler: the terminal is gone and the process is about to exit, and
    the commands run in their own sessions, so nothing else would end them."""
    killed = 0
    for pgid in list(_RUNNING_GROUPS):
        if _signal_group(pgid, signal.SIGKILL):
            killed += 1
    return killed


def scrub_env(env: Mapping[str, str]) -> dict[str, str]:
    """The environment minus provider secrets: a command (or a model reading `env`) never sees keys."""
    return {k: v for k, v in env.items() if k.upper() not in SECRET_NAMES and not k.upper().endswith("_API_KEY")}


class OutputBuffer:
    """Keeps the first and last ``limit/2`` chars of a stream of bytes, counting what falls between."""

    def __init__(self, limit: int = MAX_OUTPUT_CHARS) -> None:
        self.head_limit = limit // 2
        self.tail_limit = limit - self.head_limit
        self.head = ""
        self.tail = ""
        self.total = 0
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="backslashreplace")

    def feed(self, data: bytes, final: bool = False) -> None:
        text = self._decoder.decode(data, final)
        self.total += len(text)
        room = self.head_limit - len(self.head)
        if room > 0:
            self.head += text[:room]
            text = text[room:]
        if text:
            self.tail += text
            if len(self.tail) > 2 * self.tail_limit:
                self.tail = self.tail[-self.tail_limit :]

    def render(self) -> str:
        self.feed(b"", final=True)
        tail = self.tail[-self.tail_limit :] if self.tail else ""
        omitted = self.total - len(self.head) - len(tail)
        if omitted <= 0:
            return self.head + tail
        return f"{self.head}\n[... {omitted} chars omitted ...]\n{tail}"


class _ShellProtocol(asyncio.SubprocessProtocol):
    """Separates "the shell exited" from "the output pipe closed".

    ``Process.wait()`` waits for both (on 3.11), so a background child holding stdout open would
    hang it; the low-level protocol reports each event on its own.
    """

    def __init__(self, output: OutputBuffer) -> None:
        loop = asyncio.get_running_loop()
        self.output = output
        self.exited: asyncio.Future[None] = loop.create_future()
        self.output_closed: asyncio.Future[None] = loop.create_future()

    def pipe_data_received(self, fd: int, data: bytes | str) -> None:
        self.output.feed(data if isinstance(data, bytes) else data.encode())

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        if fd == 1 and not self.output_closed.done():
            self.output_closed.set_result(None)

    def process_exited(self) -> None:
        if not self.exited.done():
            self.exited.set_result(None)


class BashTool(Tool):
    """Runs shell commands; the model reads output and exit code, a non-zero exit is not an error."""

    name: ClassVar[str] = "bash"
    description: ClassVar[str] = (
        "Run a shell command (bash) in the project and return its combined stdout/stderr and exit code. "
        "No stdin: interactive commands get EOF. Times out after `timeout` seconds (default 120), killing "
        "everything the command started. Long output keeps its start and end. Background processes are "
        "killed when the command ends unless their output is redirected (`cmd > log 2>&1 &`). Prefer "
        "read_file, grep and glob over cat, grep and find."
    )
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "command": {"type": "string", "description": "The command line to run."},
            "timeout": {
                "type": "number",
                "description": f"Seconds before the command is killed (max {MAX_TIMEOUT_S:g}).",
                "exclusiveMinimum": 0,
                "maximum": MAX_TIMEOUT_S,
                "default": DEFAULT_TIMEOUT_S,
            },
            "cwd": {"type": "string", "description": "Working folder (default: project root)."},
        },
        "required": ["command"],
        "additionalProperties": False,
    }
    read_only: ClassVar[bool] = False

    def __init__(self, *, max_output_chars: int = MAX_OUTPUT_CHARS) -> None:
        self.max_output_chars = max_output_chars

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        check_known(args, self.name, ("command", "timeout", "cwd"))
        command = require_str(args, "command", allow_empty=False)
        timeout = get_number(args, "timeout", DEFAULT_TIMEOUT_S, minimum=0.001, maximum=MAX_TIMEOUT_S)
        cwd = resolve_path(ctx, get_str(args, "cwd", "."), for_write=False)
        if not cwd.is_dir():
            raise ToolError(f"cwd {cwd} is not an existing folder. Pass a folder inside the project.")
        env = scrub_env(ctx.bash_env if ctx.bash_env is not None else os.environ)

        output = OutputBuffer(self.max_output_chars)
        loop = asyncio.get_running_loop()
        transport: asyncio.SubprocessTransport | None = None
        timed_out = pipe_held = cancelled = False
        started = loop.time()
        start = asyncio.ensure_future(loop.subprocess_shell(
            lambda: _ShellProtocol(output),
            command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            cwd=cwd,
            env=env,
            start_new_session=True,  # own process group: one killpg reaches every child
            executable=_shell(),
        ))
        try:
            try:
                transport, protocol = await asyncio.shield(start)
            except asyncio.CancelledError:
                # The shell may already be running: let the start finish, so it is killed with its group
                # below (and reported), instead of being left to run unseen.
                transport, protocol = await _settled(start)
                _RUNNING_GROUPS.add(transport.get_pid())
                raise
            assert transport is not None
            _RUNNING_GROUPS.add(transport.get_pid())
            try:
                await asyncio.wait_for(asyncio.shield(protocol.exited), timeout)
            except TimeoutError:
                timed_out = True
            if not timed_out:
                try:
                    await asyncio.wait_for(asyncio.shield(protocol.output_closed), PIPE_GRACE_S)
                except TimeoutError:
                    pipe_held = True
        except OSError as exc:
            raise ToolError(f"Could not start the shell: {exc}.") from exc
        except asyncio.CancelledError:
            if transport is None:
                raise  # it never started: nothing ran
            cancelled = True  # it ran (part of it): the report below says so, after the group is gone
        finally:
            # Also reached on cancellation (CancelledError is a BaseException): never leave the group.
            if transport is not None:
                clean = transport.get_returncode() is not None and not (timed_out or pipe_held)
                try:
                    if not clean:
                        await terminate_group(transport.get_pid())
                        # Let the loop reap the shell so its exit status can be reported.
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(asyncio.shield(protocol.exited), TERM_GRACE_S)
                        if cancelled:  # what it printed before the kill is part of the report
                            with contextlib.suppress(TimeoutError):
                                await asyncio.wait_for(asyncio.shield(protocol.output_closed), PIPE_GRACE_S)
                finally:
                    _RUNNING_GROUPS.discard(transport.get_pid())
                    transport.close()

        assert transport is not None  # an OSError or a cancel before the start raised above
        exit_code = transport.get_returncode()
        if cancelled:
            ran = loop.time() - started
            raise ToolCancelled(
                self._render(output, exit_code, timeout, False, False)
                + f"\n[cancelled by the user after {ran:.1f} s: the command was started and then killed with "
                "everything it started; whatever it did before that has happened]"
            )
        return ToolOutput(
            self._render(output, exit_code, timeout, timed_out, pipe_held),
            metadata={
                "exit_code": exit_code,
                "timed_out": timed_out,
                "truncated": output.total > self.max_output_chars,
            },
        )

    def _render(
        self, output: OutputBuffer, exit_code: int | None, timeout: float, timed_out: bool, pipe_held: bool
    ) -> str:
        text = output.render().rstrip("\n") or "(no output)"
        notes: list[str] = []
        if timed_out:
            notes.append(
                f"[timed out after {timeout:g} s; the command and its children were killed. Use a longer "
                "timeout or run it in the background with output redirected to a file.]"
            )
        if pipe_held:
            notes.append(
                "[a background process kept the output open after the command finished; it was killed. "
                "Redirect its output (`cmd > log 2>&1 &`) to keep it running.]"
            )
        if exit_code is None:
            code = "none (killed)"
        elif exit_code < 0:
            code = f"{exit_code} (killed by {_signal_name(-exit_code)})"
        else:
            code = str(exit_code)
        return "\n".join([text, *notes, f"exit code: {code}"])


async def _settled(future: asyncio.Future[Any]) -> Any:
    """``future``'s result once it is done, waiting through further cancels (a process start is short)."""
    while not future.done():
        try:
            await asyncio.wait([future])
        except asyncio.CancelledError:
            continue
    return future.result()


async def terminate_group(pgid: int) -> None:
    """SIGTERM the process group, SIGKILL whatever is still alive after ``TERM_GRACE_S``, and return
    once the group is gone (or ``KILL_WAIT_S`` later), so no stray outlives the tool call."""
    if not _signal_group(pgid, signal.SIGTERM):
        return
    try:
        if await _wait_gone(pgid, TERM_GRACE_S):
            return
        _signal_group(pgid, signal.SIGKILL)
        await _wait_gone(pgid, KILL_WAIT_S)
    except BaseException:
        # Cancelled again while waiting: no more waiting, but never leave the group running.
        _signal_group(pgid, signal.SIGKILL)
        raise


async def _wait_gone(pgid: int, seconds: float) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while _group_alive(pgid):
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(0.02)
    return True


def _signal_group(pgid: int, sig: signal.Signals) -> bool:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _group_alive(pgid: int) -> bool:
    """Is any member of the group still running? Zombies (dead, awaiting a reaper) do not count."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    proc = Path("/proc")
    if not sys.platform.startswith("linux") or not proc.is_dir():
        return True
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            # fields: state, ppid, pgrp, ...
            if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
                return True
    return False


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _shell() -> str | None:
    return shutil.which("bash") or None
