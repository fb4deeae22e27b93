"""One MCP server: start it, list its tools, call them, notice when it dies, stop it.

The only module that imports the ``mcp`` SDK, and only once a server is started (never at start-up).
The SDK's client lives in anyio task groups that must be entered and left by the same task, so each
server has an owner task that holds the connection open until ``stop``; calls from the executor's tasks
go through the client's streams, which any task may use.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from tunacode_tui.config.mcp import McpServerConfig
from tunacode_tui.tools.base import ToolError

log = logging.getLogger("tunacode.mcp")

State = Literal["starting", "ready", "failed", "stopped"]
STDERR_TAIL_CHARS = 800
MAX_TOOL_PAGES = 50
# Time the SDK gets to stop a server (close stdin, then SIGTERM and SIGKILL to its process group).
STOP_TIMEOUT = 8.0


@dataclass(frozen=True, slots=True)
class RemoteTool:
    """A tool as the server listed it."""

    name: str
    description: str
    input_schema: dict[str, Any]
    read_only_hint: bool | None


def _import_sdk() -> None:
    """The SDK's import takes 0.3-2 s (pydantic models by the hundred): run in a thread, so the app's event
    loop keeps drawing and reading keys while the servers start."""
    import mcp.client.stdio
    import mcp.client.streamable_http  # noqa: F401


def _leaf(exc: BaseException) -> BaseException:
    """The first real error inside the SDK's task-group exception groups."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def _describe(exc: BaseException) -> str:
    exc = _leaf(exc)
    if isinstance(exc, FileNotFoundError):
        return f"the command was not found ({exc.filename or exc})"
    if isinstance(exc, PermissionError):
        return f"the command may not be run ({exc.strerror or exc})"
    if isinstance(exc, OSError):
        return f"{exc.strerror or exc}"
    text = str(exc).strip() or type(exc).__name__
    return text if type(exc).__name__ in text else f"{type(exc).__name__}: {text}"


class McpConnection:
    """A server's life: ``starting`` → ``ready`` → (``failed`` if it dies) → ``stopped``.
    ``on_change`` is called on every state change, on the event loop that runs the connection."""

    def __init__(self, config: McpServerConfig, root: Path, on_change: Callable[[McpConnection], None]) -> None:
        self.config = config
        self.root = root
        self.state: State = "starting"
        self.error: str | None = None
        self.tools: list[RemoteTool] = []
        self.started_in: float | None = None
        self._on_change = on_change
        self._client: Any = None
        self._stop = asyncio.Event()
        self._settled = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._watchdog: asyncio.Task[None] | None = None
        # Where the server's stderr goes (its tail explains a failure); closed in ``stop``.
        self._stderr = tempfile.TemporaryFile() if config.transport == "stdio" else None  # noqa: SIM115

    @property
    def name(self) -> str:
        return self.config.name

    # -- life ---------------------------------------------------------------------------------------
    def start(self) -> None:
        self._task = asyncio.ensure_future(self._own())
        self._watchdog = asyncio.ensure_future(self._watch_startup())

    async def wait_settled(self) -> None:
        """Until the server is ready or has failed to start."""
        await self._settled.wait()

    async def _watch_startup(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._settled.wait(), self.config.startup_timeout)
            return
        if self.state == "starting" and self._task is not None:
            self._fail(f"it did not finish starting within {self.config.startup_timeout:g}s "
                       '(raise "startup_timeout" in its entry if it is just slow)')
            self._task.cancel()

    async def _own(self) -> None:
        t0 = time.monotonic()
        try:
            await asyncio.to_thread(_import_sdk)
            async with contextlib.AsyncExitStack() as stack:
                self._client = await stack.enter_async_context(await self._make_client(stack))
                self.tools = await self._list_tools()
                self.started_in = time.monotonic() - t0
                self._set("ready")
                await self._stop.wait()
        except asyncio.CancelledError:
            if self.state == "starting":
                self._fail("start-up was cancelled")
        except BaseException as exc:  # any failure of a server is a notice, never a crash
            log.info("MCP server %s failed", self.name, exc_info=True)
            if self.state != "failed":
                self._fail(("it stopped: " if self.state == "ready" else "it could not start: ") + _describe(exc))
            if not isinstance(_leaf(exc), Exception):
                raise
        finally:
            self._client = None
            if self.state in ("starting", "ready"):
                self._set("stopped")
            self._settled.set()

    async def _make_client(self, stack: contextlib.AsyncExitStack) -> Any:
        from mcp import Client, Implementation

        from tunacode_tui import __version__

        info = Implementation(name="tunacode", version=__version__)
        if self.config.transport == "http":
            import httpx2
            from mcp.client.streamable_http import streamable_http_client

            # The SDK's own defaults: 30 s to connect or write, 5 min to read (a server may hold a stream open).
            http = await stack.enter_async_context(httpx2.AsyncClient(
                headers=dict(self.config.headers), timeout=httpx2.Timeout(30.0, read=300.0)))
            return Client(streamable_http_client(self.config.url, http_client=http), client_info=info)
        from mcp import StdioServerParameters
        from mcp.client.stdio import stdio_client

        params = StdioServerParameters(
            command=self.config.command, args=list(self.config.args), env=dict(self.config.env) or None,
            cwd=self.config.cwd or str(self.root),
        )
        return Client(stdio_client(params, errlog=self._stderr), client_info=info)  # type: ignore[arg-type]

    async def _list_tools(self) -> list[RemoteTool]:
        tools: list[RemoteTool] = []
        cursor = None
        for _ in range(MAX_TOOL_PAGES):
            page = await self._client.list_tools(cursor=cursor)
            for tool in page.tools:
                hint = tool.annotations.read_only_hint if tool.annotations is not None else None
                title = tool.title or (tool.annotations.title if tool.annotations is not None else None)
                tools.append(RemoteTool(tool.name, tool.description or title or "", dict(tool.input_schema), hint))
            cursor = page.next_cursor
            if not cursor:
                break
        return tools

    async def stop(self) -> None:
        """Stop the server and wait for it (bounded): the SDK closes its stdin, then signals its process group."""
        self._stop.set()
        task = self._task
        try:
            if task is None or task.done():
                return
            if self.state == "starting":  # still in the handshake, not waiting on ``_stop``: no reason to wait
                task.cancel()
            try:
                await asyncio.wait_for(asyncio.shield(task), STOP_TIMEOUT)
            except TimeoutError:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.wait_for(task, 2.0)
            except (asyncio.CancelledError, Exception):
                pass
        finally:  # also when the server had already ended (failed at start): its stderr file is closed too
            if self._stderr is not None:
                self._stderr.close()

    # -- state --------------------------------------------------------------------------------------
    def _set(self, state: State) -> None:
        self.state = state
        if state != "starting":
            self._settled.set()
        try:
            self._on_change(self)
        except Exception:  # a listener's bug must not take the server down
            log.exception("MCP status listener failed")

    def _fail(self, why: str) -> None:
        tail = self.stderr_tail()
        self.error = why + (f"\nIts last stderr output:\n{tail}" if tail else "")
        self._set("failed")

    def stderr_tail(self) -> str:
        if self._stderr is None or self._stderr.closed:
            return ""
        with contextlib.suppress(OSError, ValueError):
            size = os.fstat(self._stderr.fileno()).st_size
            start = max(0, size - STDERR_TAIL_CHARS * 4)
            raw = os.pread(self._stderr.fileno(), size - start, start)
            return raw.decode("utf-8", "replace").strip()[-STDERR_TAIL_CHARS:]
        return ""

    # -- calls --------------------------------------------------------------------------------------
    async def call(self, tool: str, arguments: dict[str, Any]) -> Any:
        """The server's ``CallToolResult``. Raises ``ToolError`` the model can read for every failure:
        a server that is not running, a timeout, a server that died during the call."""
        if self.state != "ready" or self._client is None:
            why = f": {self.error.splitlines()[0]}" if self.error else ""
            raise ToolError(f"MCP server {self.name!r} is {self.state}{why}. Its tools cannot run now.")
        from mcp import MCPError

        client = self._client
        try:
            return await asyncio.wait_for(client.call_tool(tool, arguments), self.config.timeout)
        except TimeoutError:
            raise ToolError(f"{tool} on MCP server {self.name!r} did not answer within {self.config.timeout:g}s "
                            '(the per-call timeout; raise "timeout" in the server\'s entry). The call was '
                            "abandoned.") from None
        except MCPError as exc:
            if "closed" in str(exc).lower() or self._task is None or self._task.done():
                self._fail("it stopped during a call to " + tool)
                raise ToolError(f"MCP server {self.name!r} stopped while running {tool}: {self.error}") from None
            raise ToolError(f"{tool} on MCP server {self.name!r} failed: {exc}") from None
        except (OSError, BaseExceptionGroup) as exc:
            raise ToolError(f"{tool} on MCP server {self.name!r} failed: {_describe(exc)}") from None
