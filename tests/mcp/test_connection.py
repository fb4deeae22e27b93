"""One server through the manager, without the app: per-call timeouts, results as the model reads them,
and stopping a server that is still starting. The sample server is tests/mcp/sample_server.py."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import pytest

from tests.mcp.helpers import sample_server, server_processes
from tunacode_tui.config.mcp import parse_server
from tunacode_tui.tools.base import ToolContext, ToolError
from tunacode_tui.tools.mcp.manager import McpManager


def test_a_call_past_its_timeout_is_a_tool_error_and_the_server_keeps_serving(tmp_path: Path) -> None:
    async def scenario() -> None:
        manager = McpManager(tmp_path)
        manager.start({"s": parse_server("s", sample_server(timeout=3))})
        await manager.wait_started()
        tools = {t.name: t for t in manager.tools()}
        ctx = ToolContext(root=tmp_path)
        try:
            with pytest.raises(ToolError, match="did not answer within 3s"):
                await tools["mcp__s__slow"].run({"seconds": 30}, ctx)
            assert (await tools["mcp__s__echo"].run({"text": "after"}, ctx)).content == "after"
            with pytest.raises(ToolError, match=r"fail on MCP server 's' reported an error: .*disk on fire"):
                await tools["mcp__s__fail"].run({"why": "disk on fire"}, ctx)
            # Structured content arrives with its text mirror: the model reads the text once.
            out = (await tools["mcp__s__unannotated"].run({"value": 4}, ctx)).content
            assert '"double": 8' in out and out.count('"double"') == 1
            assert [s.state for s in manager.statuses()] == ["ready"]
        finally:
            await manager.aclose()

    asyncio.run(scenario())


def test_quitting_while_a_server_is_still_starting_does_not_wait_for_it(tmp_path: Path) -> None:
    """The app or -p ending during a server's handshake: the stop cancels it at once, and the process goes."""
    hang = "import sys, time\nprint('waiting', file=sys.stderr, flush=True)\ntime.sleep(600)"

    async def scenario() -> float:
        manager = McpManager(tmp_path)
        manager.start({"slow": parse_server("slow", {"command": sys.executable, "args": ["-c", hang, "hang-marker"],
                                                     "startup_timeout": 300})})
        deadline = time.monotonic() + 30
        while not server_processes("hang-marker"):
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        started = time.monotonic()
        await manager.aclose()
        assert manager.statuses()[0].state == "failed"
        return time.monotonic() - started

    took = asyncio.run(scenario())
    assert took < 7, took  # the SDK's own bounded shutdown (stdin closed, 2 s, then the process group)
    assert server_processes("hang-marker") == []


def test_stopping_a_server_that_already_failed_closes_its_stderr_file(tmp_path: Path) -> None:
    async def scenario() -> None:
        manager = McpManager(tmp_path)
        manager.start({"dead": parse_server("dead", {"command": sys.executable,
                                                     "args": ["-c", "import sys; print('bye', file=sys.stderr)"]})})
        await manager.wait_started()
        (connection,) = manager._connections.values()
        assert connection.state == "failed" and connection._stderr is not None
        await manager.aclose()
        assert connection._stderr.closed

    asyncio.run(scenario())
