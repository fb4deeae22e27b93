"""MCP servers in headless mode: start them before the one prompt (each bounded by its startup timeout),
report each server as an ``mcp_status`` record, and stop them on the way out."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from tunacode_tui.agent.events import Notice
from tunacode_tui.config.settings import Config

if TYPE_CHECKING:
    from tunacode_tui.agent.loop import Agent
    from tunacode_tui.config.mcp import McpServerConfig
    from tunacode_tui.headless import JsonLinesSink
    from tunacode_tui.tools.base import Tool
    from tunacode_tui.tools.mcp.manager import McpManager, ServerStatus


class HeadlessMcp:
    def __init__(self, root: Path, sink: JsonLinesSink, servers: dict[str, McpServerConfig]) -> None:
        self.root = root
        self.sink = sink
        self.servers = servers
        self.manager: McpManager | None = None
        self._reporting = True

    @classmethod
    def plan(cls, config: Config, root: Path, sink: JsonLinesSink, *, mcp_config: Path | None,
             allow_project: bool) -> HeadlessMcp:
        """Raises ``ValueError`` (``McpConfigError``) when ``--mcp-config`` cannot be used."""
        if not config.mcp_servers and not config.mcp_problems and mcp_config is None:
            from tunacode_tui.config.mcp import project_file

            if project_file(root) is None:  # the common case: nothing to plan, nothing imported
                return cls(root, sink, {})
        from tunacode_tui.agent.mcp_servers import plan_for, project_pending_text

        plan = plan_for(config, root, extra_file=mcp_config, allow_project=allow_project)
        notices = list(plan.notices)
        if plan.pending_project is not None and not plan.declined:
            notices.append(project_pending_text(plan))
        for text in notices:
            sink(Notice("warning", text, time.monotonic()))
        return cls(root, sink, plan.servers)

    async def start(self, agent: Agent) -> None:
        if not self.servers:
            return
        from tunacode_tui.tools.mcp.manager import McpManager

        self.manager = McpManager(self.root, self._changed)
        self.manager.start(self.servers)
        await self.manager.wait_started()
        agent.add_tools(self.manager.tools())

    def _changed(self, status: ServerStatus, tools: list[Tool]) -> None:
        if not self._reporting:
            return
        self.sink.write("mcp_status", time.monotonic(), **status.record())
        if status.state == "failed":
            from tunacode_tui.agent.mcp_servers import status_notice

            notice = status_notice(status)
            if notice is not None and self.sink.fmt != "stream-json":
                print(f"tunacode: {notice[1]}", file=sys.stderr)

    async def aclose(self) -> None:
        self._reporting = False  # nothing after the result record
        if self.manager is not None:
            await self.manager.aclose()
