from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from tests.tools.helpers import call
from tunacode_tui.tools.base import ToolCancelled, ToolContext, ToolError
from tunacode_tui.tools.bash import BashTool, OutputBuffer, scrub_env

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="process groups are POSIX")

tool = BashTool()


def gone(pid: int) -> bool:
    """Dead: no such process, or a zombie waiting for a reaper that is not us."""
    try:
        status = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False
    return status.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def read_pids(path: Path) -> list[int]:
    return [int(x) for x in path.read_text().split()]


async def test_output_and_exit_code(ctx: ToolContext) -> None:
    out = await call(tool, ctx, command="echo out; echo err >&2; exit 3")
    assert out.content == "out\nerr\nexit code: 3"
    assert out.metadata["exit_code"] == 3
    ok = await call(tool, ctx, command="true")
    assert ok.content == "(no output)\nexit code: 0"


async def test_cwd_is_confined(ctx: ToolContext, root: Path, outside: Path) -> None:
    (root / "sub dir").mkdir()
    out = await call(tool, ctx, command="pwd", cwd="sub dir")
    assert out.content.splitlines()[0] == str(root / "sub dir")
    default = await call(tool, ctx, command="pwd")
    assert default.content.splitlines()[0] == str(root)
    with pytest.raises(ToolError, match="outside"):
        await call(tool, ctx, command="pwd", cwd=str(outside))
    with pytest.raises(ToolError, match="not an existing folder"):
        await call(tool, ctx, command="pwd", cwd="missing")


async def test_stdin_is_closed(ctx: ToolContext) -> None:
    out = await asyncio.wait_for(call(tool, ctx, command="cat; echo done"), 10)
    assert out.content == "done\nexit code: 0"


async def test_timeout_kills_the_whole_group(ctx: ToolContext, root: Path) -> None:
    pids = root / "pids"
    command = f"sleep 100 & echo $! > '{pids}'; echo $$ >> '{pids}'; sleep 100"
    started = time.monotonic()
    out = await call(tool, ctx, command=command, timeout=0.5)
    assert time.monotonic() - started < 5
    assert out.metadata["timed_out"] is True
    assert "timed out after 0.5 s" in out.content
    assert out.content.splitlines()[-1].startswith("exit code:")
    background, shell = read_pids(pids)
    assert gone(background) and gone(shell)


async def test_term_ignoring_children_are_killed(ctx: ToolContext, root: Path) -> None:
    pids = root / "pids"
    command = f"(trap '' TERM; sleep 100) & echo $! > '{pids}'; wait"
    await call(tool, ctx, command=command, timeout=0.3)
    (child,) = read_pids(pids)
    assert gone(child)


async def test_cancellation_kills_the_whole_group(ctx: ToolContext, root: Path) -> None:
    fifo = root / "started"
    os.mkfifo(fifo)
    command = f"sleep 100 & echo $! > '{fifo}'; sleep 100"
    task = asyncio.create_task(call(tool, ctx, command=command, timeout=60))
    # Opening the FIFO blocks until the command writes its child's pid: no polling, no sleep.
    pid = int(await asyncio.wait_for(asyncio.to_thread(fifo.read_text), 10))
    task.cancel()
    with pytest.raises(ToolCancelled):
        await task
    assert gone(pid)


async def test_background_child_holding_stdout_does_not_hang(ctx: ToolContext, root: Path) -> None:
    pids = root / "pids"
    started = time.monotonic()
    out = await call(tool, ctx, command=f"sleep 30 & echo $! > '{pids}'; echo started", timeout=60)
    assert time.monotonic() - started < 5
    assert out.content.startswith("started\n")
    assert "kept the output open" in out.content
    assert out.metadata["exit_code"] == 0
    (child,) = read_pids(pids)
    assert gone(child)


async def test_detached_background_child_survives(ctx: ToolContext, root: Path) -> None:
    out = await call(tool, ctx, command="sleep 30 > /dev/null 2>&1 & echo $!")
    pid = int(out.content.splitlines()[0])
    try:
        assert not gone(pid)
        assert "kept the output open" not in out.content
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


async def test_output_is_capped_keeping_head_and_tail(ctx: ToolContext) -> None:
    out = await call(tool, ctx, command="seq 1 100000")
    lines = out.content.splitlines()
    assert lines[:3] == ["1", "2", "3"]
    assert lines[-2:] == ["100000", "exit code: 0"]
    total = sum(len(f"{i}\n") for i in range(1, 100001))
    assert f"[... {total - 30_000} chars omitted ...]" in out.content
    assert len(out.content) < 31_000
    assert out.metadata["truncated"] is True


async def test_secrets_are_not_in_env(ctx: ToolContext, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-anthropic")
    monkeypatch.setenv("OPENROUTER_API_KEY", "sk-router")
    monkeypatch.setenv("MY_SERVICE_API_KEY", "sk-other")
    monkeypatch.setenv("HARMLESS_SETTING", "visible")
    out = await call(tool, ctx, command="env")
    assert "sk-" not in out.content
    assert "HARMLESS_SETTING=visible" in out.content


async def test_bash_env_is_used_and_scrubbed(root: Path) -> None:
    ctx = ToolContext(root=root, bash_env={"PATH": os.environ["PATH"], "ONLY": "me", "X_API_KEY": "k"})
    out = await call(tool, ctx, command="env")
    assert "ONLY=me" in out.content and "X_API_KEY" not in out.content
    assert "HOME=" not in out.content


async def test_argument_validation(ctx: ToolContext) -> None:
    with pytest.raises(ToolError, match="'timeout' must be a number"):
        await call(tool, ctx, command="true", timeout="10")
    with pytest.raises(ToolError, match="'timeout' must be between"):
        await call(tool, ctx, command="true", timeout=10_000)
    with pytest.raises(ToolError, match="'command' must not be empty"):
        await call(tool, ctx, command="")


def test_scrub_env() -> None:
    env = {"OPENAI_API_KEY": "a", "my_api_key": "b", "API_KEYRING": "c", "PATH": "/bin"}
    assert scrub_env(env) == {"API_KEYRING": "c", "PATH": "/bin"}


def test_output_buffer_multibyte_split() -> None:
    buffer = OutputBuffer(limit=10)
    data = "é".encode() * 20
    for i in range(len(data)):
        buffer.feed(data[i : i + 1])
    assert buffer.render() == "ééééé\n[... 10 chars omitted ...]\nééééé"


async def test_cancel_reports_what_ran(ctx: ToolContext, root: Path) -> None:
    """A cancelled command is killed, and its result says it ran and shows its output so far (issue 12):
    "cancelled before this tool finished" would hide a command that already did half its work."""
    fifo = root / "ready"
    os.mkfifo(fifo)
    task = asyncio.ensure_future(call(tool, ctx, command="echo step-one-done; echo go > ready; sleep 30"))
    # Opening the FIFO blocks until the command opens it: the command is running, step one is done.
    assert await asyncio.to_thread(fifo.read_text) == "go\n"
    task.cancel()
    with pytest.raises(ToolCancelled) as raised:
        await task
    report = str(raised.value)
    assert "step-one-done" in report
    assert "cancelled by the user" in report and "killed" in report
