"""The Textual app: ``make_app`` builds it for the CLI and the tests alike; ``run_app`` runs it.

Start-up stays light: screens are imported when first shown, and no provider SDK is imported until the
first request (``ProviderPool`` imports an adapter on its first ``get``).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import App
from textual.binding import Binding

from tunacode_tui.config.settings import Config
from tunacode_tui.ui import heap
from tunacode_tui.ui.session_context import SessionContext
from tunacode_tui.ui.spawner import WorkerSpawner

if TYPE_CHECKING:
    from tunacode_tui.agent.loop import Agent
    from tunacode_tui.providers.registry import ProviderPool
    from tunacode_tui.session.journal import SessionJournal
    from tunacode_tui.ui.screens.main import MainScreen
    from tunacode_tui.ui.widgets.notice_block import NoticeLevel


DEFAULT_SWITCH_INTERVAL = sys.getswitchinterval()
PRELOAD_SWITCH_INTERVAL = 0.0005
"""Seconds a thread may hold the GIL while the provider SDK is imported in the background (default 0.005)."""


class TunaCodeApp(App[int]):
    """Opens the setup screen when there is no key (or ``--setup``), then the main screen."""

    TITLE = "TunaCode"
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", priority=True, tooltip="Quit TunaCode")]

    def __init__(
        self,
        config: Config,
        *,
        model: str | None = None,
        root: Path | None = None,
        setup: bool = False,
        yolo: bool = False,
        pool: ProviderPool | None = None,
        resume: str | None = None,
        continue_latest: bool = False,
        journal: bool = True,
        mcp_config: Path | None = None,
    ) -> None:
        super().__init__()
        self.config = config
        self.model_name = model
        self.root = (root or Path.cwd()).resolve()
        self.setup_first = setup or not config.has_any_key()
        self.yolo = yolo
        self.resume = resume
        self.continue_latest = continue_latest
        self.use_journal = journal
        # The open conversation's context, also handed to its screen; kept here only to close its journal.
        self.session: SessionContext | None = None
        self.agent: Agent | None = None  # the conversation on screen, printed to the scrollback on exit
        if pool is None:
            from tunacode_tui.providers.registry import ProviderPool

            pool = ProviderPool()
        self.pool = pool
        # Tool calls run as this app's workers, grouped by batch; the factory hands it to every agent.
        self.spawner = WorkerSpawner(self)
        from tunacode_tui.ui.mcp_control import McpControl

        self.mcp = McpControl(self, config, self.root, self._conversation, mcp_config)

    @property
    def journal(self) -> SessionJournal | None:
        """The open conversation's journal (what the app closes at exit; tests read it)."""
        return self.session.journal if self.session is not None else None

    def _conversation(self) -> MainScreen | None:
        """The main screen, wherever it is in the stack (a modal may be above it): MCP news goes there."""
        from tunacode_tui.ui.screens.main import MainScreen

        return next((s for s in reversed(self.screen_stack) if isinstance(s, MainScreen)), None)

    def on_mount(self) -> None:
        self.call_after_refresh(self._first_frame_shown)
        if self.setup_first:
            from tunacode_tui.ui.screens.setup import SetupScreen

            self.push_screen(SetupScreen(self.config), self._setup_done)
        else:
            self.open_chat()

    def _first_frame_shown(self) -> None:
        """The screen is up: now pay for the provider SDK import, in a thread, before the user needs it."""
        marker = os.environ.get("TUNACODE_FIRST_FRAME_FILE")
        if marker:  # benchmarks/startup.py and a test read this: when, and with which SDKs loaded
            loaded = sorted(name for name in ("openai", "anthropic", "mcp") if name in sys.modules)
            Path(marker).write_text(json.dumps({"time": time.time(), "sdks": loaded}))
        if not self.setup_first:
            self._start_preload()
            self.mcp.start()

    def _start_preload(self) -> None:
        # While the thread imports, the event loop waits for the GIL at every hand-over, up to the switch interval
        # (5 ms) each time, and echoing one key takes several: a shorter interval keeps typing on the first screen
        # responsive. Put back when the preload is done (benchmarks/terminal.py measures the echo).
        sys.setswitchinterval(PRELOAD_SWITCH_INTERVAL)
        self.run_worker(self._preload_provider, thread=True, group="preload", exit_on_error=False,
                        description="import the provider SDK ahead of the first request")

    def _preload_provider(self) -> None:
        try:
            self._preload()
        finally:
            sys.setswitchinterval(DEFAULT_SWITCH_INTERVAL)
        # Start-up's objects (Textual, the SDK) are made: out of the automatic collections with them (ui/heap.py).
        heap.KEEPER.freeze()

    def _preload(self) -> None:
        from tunacode_tui.providers.registry import parse_model_name, preload_adapter

        # A bad model name is reported when the chat opens; nothing to do about it here.
        with contextlib.suppress(Exception):
            preload_adapter(parse_model_name(self.model_name or self.config.model).provider)
        # The client too (its HTTP transport and TLS context) and the SDK's lazily imported resources: without
        # this the first Enter waited ~0.4 s (2 cores) for them before the request left.
        agent = self.agent
        if agent is not None:
            with contextlib.suppress(Exception):  # a missing key is reported by the first request
                warm = getattr(agent.provider, "warm", None)
                if warm is not None:
                    warm()

    def _setup_done(self, saved: bool | None) -> None:
        if saved:
            from tunacode_tui.config.paths import config_file

            self.model_name = None  # the model just chosen wins over a --model given before setup
            self.open_chat([("info", f"Saved your settings to {config_file()} (mode 0600).")])
            self._start_preload()
            self.call_after_refresh(self.mcp.start)
        else:
            self.exit(0)

    def open_chat(self, first: list[tuple[NoticeLevel, str]] | None = None) -> None:
        from tunacode_tui.ui.screens.main import MainScreen

        # Shown in the chat once it opens: resume results, journal problems, a start-up error.
        notices: list[tuple[NoticeLevel, str]] = [*(first or []), *(("warning", w) for w in self.config.warnings)]
        agent: Agent | None = None
        try:
            agent = self.build_agent(notices)
        except Exception as exc:  # a bad model name or session file: show it in the chat, keep the app usable
            notices.insert(0, ("error", f"{exc} The chat cannot send anything until a model works: choose one "
                                        "with /model (or /model NAME)."))
            self.session = SessionContext(self.config, self.root, self.reopen_session, mcp=self.mcp,
                                          keep_history=self.use_journal, notices=notices,
                                          start=self.start_on_model)
        assert self.session is not None
        self.agent = agent
        self.push_screen(MainScreen(agent, self.session))

    def build_agent(self, notices: list[tuple[NoticeLevel, str]]) -> Agent:
        """The agent for this run: a fresh session, or a resumed one, journaled unless disabled. Opens
        ``self.session`` on it; what the user should hear about is added to ``notices``."""
        from tunacode_tui.agent.factory import SessionChoiceError, open_session_agent

        if self.resume == "" and not self.continue_latest:  # --resume without an id: say what there is
            notices.append(self._list_sessions())
        try:
            bundle = open_session_agent(
                self.config, model=self.model_name, root=self.root, pool=self.pool, resume=self.resume or None,
                continue_latest=self.continue_latest, journal_enabled=self.use_journal, spawner=self.spawner,
            )
        except SessionChoiceError as exc:
            notices.append(("warning", f"{exc} Starting a new conversation."))
            bundle = open_session_agent(self.config, model=self.model_name, root=self.root, pool=self.pool,
                                        journal_enabled=self.use_journal, spawner=self.spawner)
        notices += [("warning", warning) for warning in bundle.warnings]
        self.session = SessionContext(self.config, self.root, self.reopen_session, mcp=self.mcp,
                                      keep_history=self.use_journal, journal=bundle.journal,
                                      resumed=bundle.resumed, notices=notices)
        bundle.agent.state.yolo = self.yolo
        bundle.agent.add_tools(self.mcp.tools())  # servers that are already up (none on the first open)
        return bundle.agent

    def start_on_model(self, model: str) -> tuple[Agent, SessionContext]:
        """``/model NAME`` after a start-up that built no agent (a bad model name): the conversation this run
        would have opened, on ``NAME``. Raises (with a message to show) when that fails too."""
        self.model_name = model
        notices: list[tuple[NoticeLevel, str]] = []
        agent = self.build_agent(notices)
        assert self.session is not None
        self.agent = agent
        return agent, self.session

    def reopen_session(self, session_id: str) -> str | None:
        """``/resume ID``: swap the main screen for one on the chosen session. Returns an error to show,
        or None. The current session's journal is closed first; nothing of it is lost."""
        from tunacode_tui.agent.factory import open_session_agent
        from tunacode_tui.ui.screens.main import MainScreen

        try:
            bundle = open_session_agent(self.config, root=self.root, pool=self.pool, resume=session_id,
                                        journal_enabled=self.use_journal, spawner=self.spawner)
        except Exception as exc:  # SessionChoiceError or a bad model name: say so, keep the current chat
            return f"Could not resume {session_id}: {exc}"
        if self.journal is not None:
            self.journal.close()
        self.session = SessionContext(self.config, self.root, self.reopen_session, mcp=self.mcp,
                                      keep_history=self.use_journal, journal=bundle.journal,
                                      resumed=bundle.resumed,
                                      notices=[("warning", warning) for warning in bundle.warnings])
        bundle.agent.state.yolo = self.yolo
        bundle.agent.add_tools(self.mcp.tools())  # the MCP servers outlive the conversation
        self.agent = bundle.agent
        self.switch_screen(MainScreen(bundle.agent, self.session))
        return None

    def _list_sessions(self) -> tuple[NoticeLevel, str]:
        from tunacode_tui.session.store import list_sessions

        sessions = list_sessions(self.root)[:10]
        if not sessions:
            return ("info", f"No saved sessions for {self.root} yet.")
        rows = "\n".join(f"  {s.id}  {s.messages} messages  {s.preview}" for s in sessions)
        return ("info", f"Saved sessions (resume one with tunacode --resume ID):\n{rows}")

    def transcript(self) -> str:
        """The conversation as plain text for the terminal's scrollback ("" when there is none)."""
        if self.agent is None:
            return ""
        from tunacode_tui.ui.transcript import scrollback_text

        return scrollback_text(self.agent.state, secrets=self.config.secrets(),
                               session_id=self.journal.id if self.journal is not None else None)

    async def on_unmount(self) -> None:
        await self.mcp.aclose()  # each server's stop is bounded: exit never hangs on one
        if self.journal is not None:
            self.journal.close()
        await self.pool.aclose()


def make_app(
    config: Config,
    *,
    model: str | None = None,
    root: Path | None = None,
    setup: bool = False,
    yolo: bool = False,
    pool: ProviderPool | None = None,
    resume: str | None = None,
    continue_latest: bool = False,
    journal: bool = True,
    mcp_config: Path | None = None,
) -> TunaCodeApp:
    """The one way to build the app, shared by ``tunacode`` and the tests."""
    return TunaCodeApp(
        config, model=model, root=root, setup=setup, yolo=yolo, pool=pool, resume=resume,
        continue_latest=continue_latest, journal=journal, mcp_config=mcp_config,
    )


def run_app(
    config: Config,
    *,
    model: str | None = None,
    root: Path | None = None,
    setup: bool = False,
    yolo: bool = False,
    resume: str | None = None,
    continue_latest: bool = False,
    mcp_config: Path | None = None,
) -> int:
    app = make_app(config, model=model, root=root, setup=setup, yolo=yolo, resume=resume,
                   continue_latest=continue_latest, mcp_config=mcp_config)
    _end_commands_on_hangup(app)
    heap.KEEPER.enable()  # the real app only: see ui/heap.py
    app.run()
    # The alternate screen is gone: leave the conversation in the terminal's own scrollback, to scroll and copy.
    transcript = app.transcript()
    if transcript:
        sys.stdout.write(transcript)
        sys.stdout.flush()
    return app.return_code or 0


def _end_commands_on_hangup(app: App[Any]) -> None:
    """Closing the terminal sends SIGHUP, whose default kills us at once and leaves running bash commands
    (each in its own session) under PID 1. Kill their groups first, then exit; a dead terminal can make a
    clean exit hang, so a watchdog ends the process after a few seconds regardless."""
    import signal
    import threading

    if not hasattr(signal, "SIGHUP"):
        return

    def die_of_hangup() -> None:
        # The default action, as if we had never caught it: the exit status says "hang-up".
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGHUP)

    def on_hangup(signum: int, frame: object) -> None:
        from tunacode_tui.tools.bash import kill_running_commands

        kill_running_commands()
        watchdog = threading.Timer(5.0, die_of_hangup)
        watchdog.daemon = True
        watchdog.start()
        try:
            app.call_later(app.exit, None, 128 + signum)
        except Exception:
            die_of_hangup()

    signal.signal(signal.SIGHUP, on_hangup)
