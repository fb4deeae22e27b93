"""All configured MCP servers of a run: started together in the background, each reporting its state.

Nothing here waits for a server on anyone's behalf: the TUI adds a server's tools when it reports ready
and shows a notice when it fails; headless mode waits (bounded by each server's ``startup_timeout``)
before its one prompt. Importing this module does not import the ``mcp`` SDK.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tunacode_tui.config.mcp import McpServerConfig

if TYPE_CHECKING:
    from tunacode_tui.tools.base import Tool
    from tunacode_tui.tools.mcp.connection import McpConnection


@dataclass(frozen=True, slots=True)
class ServerStatus:
    """A server as ``/mcp`` and the ``mcp_status`` record show it."""

    name: str
    state: str  # "starting" | "ready" | "failed" | "stopped"
    transport: str
    target: str
    source: str
    tools: list[tuple[str, bool]] = field(default_factory=list)  # (model-facing name, read-only)
    error: str | None = None
    started_in: float | None = None

    def record(self) -> dict[str, Any]:
        """The stream-json ``mcp_status`` fields."""
        return {
            "server": self.name, "state": self.state, "transport": self.transport, "source": self.source,
            "tools": [{"name": name, "read_only": ro} for name, ro in self.tools], "error": self.error,
            "started_in": None if self.started_in is None else round(self.started_in, 3),
        }


StatusListener = Callable[[ServerStatus, "list[Tool]"], None]


class McpManager:
    """Starts, tracks and stops the servers. ``listener(status, tools)`` hears every state change, with the
    server's tools when it became ready (empty otherwise)."""

    def __init__(self, root: Path, listener: StatusListener | None = None) -> None:
        self.root = root
        self.listener = listener
        self._connections: dict[str, McpConnection] = {}
        self._tools: dict[str, list[Tool]] = {}

    def start(self, servers: dict[str, McpServerConfig]) -> None:
        """Start servers not already running; returns at once (call it on the running event loop)."""
        from tunacode_tui.tools.mcp.connection import McpConnection

        for name, server in servers.items():
            if name in self._connections:
                continue
            connection = McpConnection(server, self.root, self._changed)
            self._connections[name] = connection
            connection.start()

    async def wait_started(self) -> None:
        """Until every server is ready or has failed (each bounded by its own startup timeout)."""
        await asyncio.gather(*(c.wait_settled() for c in self._connections.values()))

    def _changed(self, connection: McpConnection) -> None:
        tools: list[Tool] = []
        if connection.state == "ready":
            from tunacode_tui.tools.mcp.tool import McpTool, qualified_name

            seen: set[str] = set()
            for remote in connection.tools:
                tool = McpTool(connection, remote)
                if tool.name in seen:  # names that differ only in characters providers refuse: keep both
                    tool.name = qualified_name(connection.name, remote.name, tagged=True)  # type: ignore[misc]
                if tool.name not in seen:
                    seen.add(tool.name)
                    tools.append(tool)
            self._tools[connection.name] = tools
        if self.listener is not None:
            self.listener(self.status(connection.name), tools)

    def tools(self) -> list[Tool]:
        """The tools of every server that became ready (a server that died later keeps its tools: calling
        one explains that the server stopped, which serves the model better than a tool that vanished)."""
        return [tool for tools in self._tools.values() for tool in tools]

    def status(self, name: str) -> ServerStatus:
        connection = self._connections[name]
        config = connection.config
        return ServerStatus(
            name, connection.state, config.transport, config.target, config.source,
            [(t.name, t.read_only) for t in self._tools.get(name, [])], connection.error, connection.started_in,
        )

    def statuses(self) -> list[ServerStatus]:
        return [self.status(name) for name in self._connections]

    def __len__(self) -> int:
        return len(self._connections)

    async def aclose(self) -> None:
        """Stop every server at once; each stop is bounded, so exit never hangs on a server."""
        await asyncio.gather(*(c.stop() for c in self._connections.values()), return_exceptions=True)
