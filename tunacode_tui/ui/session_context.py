"""What one conversation's screen needs from the run that opened it, handed to the screen when it is built.

The app opens a session (fresh, ``--continue``, ``--resume``, ``/resume``) and passes this to ``MainScreen``;
the screen never reaches back into the app for it. That keeps the screen free of an import of the app (no
``ui/app.py`` ↔ ``ui/screens/main.py`` circle) and makes a session's state die with its screen: ``/resume``
builds a new context, so the previous journal, resumed session and notices cannot leak into the next one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from tunacode_tui.agent.loop import Agent
    from tunacode_tui.config.settings import Config
    from tunacode_tui.session.journal import SessionJournal
    from tunacode_tui.session.store import LoadedSession
    from tunacode_tui.tools.mcp.manager import ServerStatus
    from tunacode_tui.ui.widgets.notice_block import NoticeLevel


class McpServers(Protocol):
    """The run's MCP servers as ``/mcp`` sees them (``ui/mcp_control.py``'s ``McpControl``)."""

    def statuses(self) -> list[ServerStatus]: ...

    def ask(self) -> bool:
        """Ask again about the project's servers; False when nothing waits for an answer."""
        ...


@dataclass(slots=True)
class SessionContext:
    config: Config
    root: Path
    reopen: Callable[[str], str | None]
    """``/resume ID``: swap to the chosen session; returns an error to show, or None. The app owns it."""
    journal: SessionJournal | None = None
    """Where this conversation is recorded; None when journaling is off or the agent could not be built."""
    resumed: LoadedSession | None = None
    """The saved session this conversation continues, if any."""
    notices: list[tuple[NoticeLevel, str]] = field(default_factory=list)
    """Shown in the chat once it opens (resume results, journal problems, a start-up error), then dropped."""
    keep_history: bool = True
    """Whether prompts are remembered for Up/Down in later runs (off with the journal: a run that saves nothing)."""
    start: Callable[[str], tuple[Agent, SessionContext]] | None = None
    """``/model NAME`` when no agent could be built at start-up (a bad model name): open the conversation on
    ``NAME`` without a restart. Raises with a message to show when it cannot. The app owns it."""
    mcp: McpServers | None = None
    """The run's MCP servers (they outlive a ``/resume``): ``/mcp`` reads and asks through it."""
