"""The app's MCP servers: planned and started after the first frame, in the background, and reported to the
main screen (tools added to its agent when a server is ready; a notice when one fails).

A project's own servers (``.tunacode/mcp.json`` or ``.mcp.json``) start only after the user approved that
file in a modal; the answer is remembered until the file changes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from tunacode_tui.core.events import Notice

if TYPE_CHECKING:
    from textual.app import App
    from textual.message import Message
    from textual.worker import Worker

    from tunacode_tui.agent.loop import Agent
    from tunacode_tui.config.mcp import McpServerConfig, ServerPlan
    from tunacode_tui.config.settings import Config
    from tunacode_tui.tools.base import Tool
    from tunacode_tui.tools.mcp.manager import McpManager, ServerStatus
    from tunacode_tui.ui.widgets.notice_block import NoticeLevel


class ConversationView(Protocol):
    """What the servers' news needs of the main screen: its agent, and a way to post a notice and a worker."""

    agent: Agent | None

    def post_message(self, message: Message) -> bool: ...
    def run_worker(self, work: Any, *args: Any, **kwargs: Any) -> Worker[Any]: ...


class McpControl:
    """``view()`` returns the conversation on screen (or None, e.g. during setup); the app supplies it, so this
    module imports neither the app nor the main screen."""

    def __init__(self, app: App[Any], config: Config, root: Path, view: Callable[[], ConversationView | None],
                 extra_file: Path | None = None) -> None:
        self.app = app
        self.config = config
        self.root = root
        self.view = view
        self.extra_file = extra_file
        self.manager: McpManager | None = None
        self.plan: ServerPlan | None = None

    # -- start --------------------------------------------------------------------------------------
    def start(self) -> None:
        """Plan and start the servers; returns at once. Called once the first frame is on screen."""
        if self.plan is not None:
            return
        from tunacode_tui.agent.mcp_servers import plan_for

        try:
            self.plan = plan_for(self.config, self.root, extra_file=self.extra_file)
        except ValueError as exc:  # --mcp-config names a file that cannot be used
            self._notice("error", f"{exc} No MCP servers from it were started.")
            return
        for text in self.plan.notices:
            self._notice("warning", text)
        self._start(self.plan.servers)
        if self.plan.pending_project is not None and not self.plan.declined:
            self.ask()

    def _start(self, servers: dict[str, McpServerConfig]) -> None:
        if not servers:
            return
        if self.manager is None:
            from tunacode_tui.tools.mcp.manager import McpManager

            self.manager = McpManager(self.root, self._changed)
        self.manager.start(servers)

    def ask(self) -> bool:
        """Ask about the project's servers (again). False when there is nothing to ask about."""
        plan = self.plan
        if plan is None or plan.pending_project is None or not plan.pending_servers:
            return False
        from tunacode_tui.ui.screens.mcp_approval import McpApprovalScreen

        file, servers = plan.pending_project, plan.pending_servers

        def decided(approved: bool | None) -> None:
            from tunacode_tui.agent.mcp_servers import answer_project

            started, notices = answer_project(plan, bool(approved))
            for text in notices:
                self._notice("warning", text)
            if approved:
                self._start(started)
            else:
                self._notice("info", f"The project's MCP servers ({', '.join(servers)}) were not started. "
                                     "/mcp approve asks again.")

        self.app.push_screen(McpApprovalScreen(file, servers), decided)
        return True

    # -- reports ------------------------------------------------------------------------------------
    def _changed(self, status: ServerStatus, tools: list[Tool]) -> None:
        from tunacode_tui.agent.mcp_servers import status_notice

        screen = self.view()
        if tools and screen is not None and screen.agent is not None:
            screen.agent.add_tools(tools)
            # The schemas count toward the context: recount off the UI thread, as on mount.
            screen.run_worker(screen.agent.context_tokens, group="context", thread=True, exit_on_error=False,
                              description="count context tokens with the MCP tools")
        notice = status_notice(status)
        if notice is not None:
            self._notice(*notice)

    def _notice(self, level: NoticeLevel, text: str) -> None:
        from tunacode_tui.ui.messages import AgentEventPosted

        screen = self.view()
        if screen is None:  # no conversation on screen (setup): a toast
            self.app.notify(text, severity="error" if level == "error" else "warning", timeout=10)
        else:  # shown, not journaled: it is about this run's servers, not the conversation
            screen.post_message(AgentEventPosted(Notice(level, text, time.monotonic())))  # type: ignore[arg-type]

    def tools(self) -> list[Tool]:
        return self.manager.tools() if self.manager is not None else []

    def statuses(self) -> list[ServerStatus]:
        return self.manager.statuses() if self.manager is not None else []

    async def aclose(self) -> None:
        if self.manager is not None:
            self.manager.listener = None  # no notices into a closing app
            await self.manager.aclose()
