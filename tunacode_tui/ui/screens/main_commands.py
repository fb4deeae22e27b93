"""The slash commands of the main screen, one ``command_<name>`` method each (see ``ui/commands.py``).

``MainCommands`` holds the screen as a ``CommandHost``: the few things the commands use, named by a
Protocol. So this module never imports ``screens/main.py`` (which builds a ``MainCommands``), there is no
import circle, and a type checker sees exactly what the commands touch.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from textual.binding import Binding, BindingType

from tunacode_tui.core.events import SettingsChanged
from tunacode_tui.core.messages import Message, Usage
from tunacode_tui.ui import commands
from tunacode_tui.ui import format as fmt
from tunacode_tui.ui.activity import BatchRecord

if TYPE_CHECKING:
    from textual.app import App

    from tunacode_tui.agent.loop import Agent
    from tunacode_tui.ui.session_context import SessionContext
    from tunacode_tui.ui.widgets.chat_log import ChatLog
    from tunacode_tui.ui.widgets.context_gauge import ContextGauge

# Keys beyond the screen's own bindings, as /help lists them.
PROMPT_KEYS: tuple[tuple[str, str], ...] = (
    ("Enter", "Send the prompt (or accept the highlighted completion)"),
    ("Shift+Enter, Ctrl+J", "New line in the prompt"),
    ("Up / Down", "Previous / next prompt (on the first / last line); choose a completion"),
    ("Tab", "Accept the completion; otherwise move to the next pane"),
    ("Enter (tool activity)", "Open the highlighted batch in the inspector (or click it)"),
    ("y / c (chat)", "Copy the lowest answer / code block in view, whole"),
    ("Ctrl+P", "Command palette"),
    ("Ctrl+Q", "Quit"),
)
UNDO_CLEAR_SECONDS = 8.0
"""How long Ctrl+Z brings back what Ctrl+L (or /clear) cleared."""


@dataclass(slots=True)
class ClearedHistory:
    """What a clear removed, kept for ``UNDO_CLEAR_SECONDS`` so that Ctrl+Z can bring it back."""

    messages: list[Message]
    todos: list[dict[str, Any]]
    batches: list[BatchRecord]
    at: float
    activity_start: int = 0


def _on_off(value: str, current: bool) -> bool | None:
    value = value.lower()
    if not value:
        return not current
    return {"on": True, "off": False}.get(value)


class CommandHost(Protocol):
    """What the commands need of the main screen (``MainScreen`` is the one implementation)."""

    BINDINGS: ClassVar[list[BindingType]]
    agent: Agent | None
    session: SessionContext
    show_thoughts: bool

    @property
    def app(self) -> App[object]: ...
    @property
    def chat(self) -> ChatLog: ...
    @property
    def gauge(self) -> ContextGauge: ...
    @property
    def busy(self) -> bool: ...

    def start_compaction(self, focus: str) -> None: ...
    async def attach(self, agent: Agent, session: SessionContext) -> None: ...
    def refresh_context(self) -> None: ...
    def show_totals(self) -> None: ...
    async def clear_view(self) -> None: ...
    def activity_records(self) -> list[BatchRecord]: ...
    async def show_history(self) -> None: ...
    async def show_batches(self, records: list[BatchRecord]) -> None: ...


class MainCommands:
    """Command handlers for the main screen. Each takes the argument text and reports in the chat."""

    def __init__(self, screen: CommandHost) -> None:
        self.screen = screen
        self.cleared: ClearedHistory | None = None  # what the last clear removed, while Ctrl+Z can undo it

    @property
    def chat(self) -> ChatLog:
        return self.screen.chat

    @property
    def agent(self) -> Agent | None:
        return self.screen.agent

    @property
    def session(self) -> SessionContext:
        return self.screen.session

    # -- dispatch -----------------------------------------------------------------------------
    async def execute(self, text: str) -> None:
        """Run ``/name argument``; an unknown name is reported in the chat, never sent as a prompt."""
        try:
            command, argument = commands.parse(text)
        except commands.UnknownCommand as exc:
            await self.chat.add_notice(str(exc), "error")
            return
        handler: Any = getattr(self, command.method)
        await handler(argument)

    async def _need_agent(self, *, idle: bool = False) -> bool:
        if self.agent is None:
            await self.chat.add_notice("No model is available: pick one with /model or run `tunacode --setup`.",
                                       "error")
            return False
        if idle and self.screen.busy:
            await self.chat.add_notice("A request is running: press Esc to cancel it first.", "warning")
            return False
        return True

    def _journal_settings(self, **changes: object) -> None:
        """Announce a per-session choice; the journal, a listener of the agent, records it."""
        assert self.agent is not None
        self.agent.publish(SettingsChanged(dict(changes), time.monotonic()))

    # -- the commands -------------------------------------------------------------------------
    async def command_help(self, argument: str) -> None:
        lines = ["### Commands", "", "| Command | What it does |", "| --- | --- |"]
        cell = commands.table_cell
        lines += [f"| `{cell(c.usage)}` | {cell(c.help)} |" for c in commands.COMMANDS]
        lines += ["", "### Keys", "", "| Key | What it does |", "| --- | --- |"]
        for binding in self.screen.BINDINGS:
            assert isinstance(binding, Binding)
            lines.append(f"| {self.screen.app.get_key_display(binding)} | {binding.tooltip or binding.description} |")
        lines += [f"| {key} | {description} |" for key, description in PROMPT_KEYS]
        await self.chat.add_markdown("\n".join(lines))

    async def command_clear(self, argument: str) -> None:
        if not await self._need_agent(idle=True):
            return
        assert self.agent is not None
        everything = argument.lower() == "all"
        state = self.agent.state
        self.cleared = None
        if state.messages and not everything:  # a reset of the totals cannot be undone; the history can
            self.cleared = ClearedHistory(list(state.messages), copy.deepcopy(state.todos),
                                          self.screen.activity_records(), time.monotonic(), state.activity_start)
        self.agent.clear(reset_totals=everything)
        self.agent.state.activity_start = self.agent.state.next_batch  # as a replayed "clear" record does
        await self.screen.clear_view()
        self.screen.refresh_context()
        self.screen.show_totals()
        await self.chat.add_notice("Cleared the conversation and totals." if everything
                                   else "Cleared the conversation (totals kept; /clear all resets them).", "info")
        if self.cleared is not None:
            self.screen.app.notify(f"Conversation cleared. Press Ctrl+Z within {UNDO_CLEAR_SECONDS:g} s to undo.",
                                   title="Undo?", timeout=UNDO_CLEAR_SECONDS)

    def take_cleared(self) -> ClearedHistory | None:
        """What Ctrl+Z can bring back now: the last clear, if it was less than ``UNDO_CLEAR_SECONDS`` ago."""
        cleared, self.cleared = self.cleared, None
        if cleared is None or time.monotonic() - cleared.at > UNDO_CLEAR_SECONDS:
            return None
        return cleared

    async def restore_cleared(self, cleared: ClearedHistory) -> None:
        """Undo a clear: the history and todos come back (the journal records it), and so do the chat and activity."""
        if self.agent is None or self.screen.busy:
            return
        self.agent.restore_history(cleared.messages, cleared.todos)
        self.agent.state.activity_start = cleared.activity_start
        await self.screen.clear_view()
        await self.screen.show_history()
        await self.screen.show_batches(cleared.batches)
        self.screen.refresh_context()
        await self.chat.add_notice(f"Restored the conversation ({len(cleared.messages)} messages).", "info")

    async def confirm_compact(self) -> None:
        """The compaction key: asks first unless the model is free (a key is pressed by mistake; /compact is typed)."""
        if not await self._need_agent(idle=True):
            return
        assert self.agent is not None
        info = self.agent.model_info
        if info.price is not None and info.price.input == 0 and info.price.output == 0:
            await self.command_compact("")
            return
        from tunacode_tui.ui.screens.confirm import ConfirmScreen

        tokens = self.agent.context_tokens()
        estimate = info.cost(Usage(input_tokens=tokens, output_tokens=min(tokens, 2_000)))
        cost = ("an unknown cost (the model's price is not in the catalog)" if estimate is None
                else f"about {fmt.cost(estimate)} (estimate: the input plus a 2,000-token summary)")
        detail = (f"The model summarises the conversation: one request of {fmt.tokens(tokens)} input tokens to "
                  f"{self.agent.model.full_name}, for {cost}. The full history stays in the session file.")

        async def answered(yes: bool | None) -> None:
            if yes:
                await self.command_compact("")

        self.screen.app.push_screen(ConfirmScreen("Compact the conversation?", detail, yes="Compact"), answered)

    async def command_compact(self, argument: str) -> None:
        if not await self._need_agent(idle=True):
            return
        assert self.agent is not None
        if len(self.agent.state.messages) < 2:
            await self.chat.add_notice("Nothing to compact yet.", "info")
            return
        focus = f" (focus: {argument})" if argument else ""
        await self.chat.add_notice(f"Compacting the conversation{focus}… Esc cancels.", "info")
        self.screen.start_compaction(argument)

    async def command_model(self, argument: str) -> None:
        if not argument:
            from tunacode_tui.ui.screens.model_picker import ModelPickerScreen

            current = self.agent.model.full_name if self.agent else ""

            async def picked(name: str | None) -> None:
                if name:
                    await self.command_model(name)

            self.screen.app.push_screen(ModelPickerScreen(current), picked)
            return
        from tunacode_tui.providers.errors import ConfigurationError
        from tunacode_tui.providers.registry import parse_model_name

        try:
            ref = parse_model_name(argument)
        except ConfigurationError as exc:
            await self.chat.add_notice(str(exc), "error")
            return
        if self.agent is None:  # the start-up model was unusable: start the conversation on this one
            if self.session.start is None:
                await self.chat.add_notice("No conversation is open: restart with --model to use this model.",
                                           "error")
                return
            try:
                agent, session = self.session.start(ref.full_name)
            except Exception as exc:  # still unusable (no key, bad session file): say why, stay as we are
                await self.chat.add_notice(f"Could not start on {ref.full_name}: {exc}", "error")
                return
            await self.screen.attach(agent, session)
        else:
            self.agent.set_model(ref)
        assert self.agent is not None
        info = self.agent.model_info
        self.screen.app.sub_title = ref.full_name
        self.screen.gauge.model = ref.full_name
        self.screen.refresh_context()
        price = (f"${info.price.input:g}/${info.price.output:g} per million tokens in/out" if info.price
                 else "price unknown")
        known = "" if info.known else " (not in the catalog: default window, price unknown)"
        await self.chat.add_notice(
            f"Model: {ref.full_name}{known}, {fmt.tokens(info.context_window)}-token window, {price}.", "info")
        if ref.provider not in self.session.config.api_keys and ref.provider != "openai-compatible":
            await self.chat.add_notice(
                f"There is no API key for {ref.provider} yet: requests will fail until you run `tunacode --setup` "
                "or set its key variable.", "warning")

    async def command_thoughts(self, argument: str) -> None:
        value = _on_off(argument, self.screen.show_thoughts)
        if value is None:
            await self.chat.add_notice("Usage: /thoughts on|off", "error")
            return
        self.screen.show_thoughts = value
        await self.chat.add_notice(f"Thinking and batch messages {'shown' if value else 'hidden'}.", "info")

    async def command_streaming(self, argument: str) -> None:
        settings = self.session.config.settings
        value = _on_off(argument, settings.enable_streaming)
        if value is None:
            await self.chat.add_notice("Usage: /streaming on|off", "error")
            return
        settings.enable_streaming = value
        self._journal_settings(enable_streaming=value)
        await self.chat.add_notice(f"Streaming {'on' if value else 'off'}.", "info")

    async def command_yolo(self, argument: str) -> None:
        if not await self._need_agent():
            return
        assert self.agent is not None
        state = self.agent.state
        state.yolo = not state.yolo
        self._journal_settings(yolo=state.yolo)
        await self.chat.add_notice(
            "YOLO on: writes and bash run without asking." if state.yolo
            else "YOLO off: writes and bash ask first.", "warning" if state.yolo else "info")

    async def command_iterations(self, argument: str) -> None:
        if not await self._need_agent():
            return
        assert self.agent is not None
        try:
            value = int(argument)
            if value < 1:
                raise ValueError
        except ValueError:
            await self.chat.add_notice(
                f"Usage: /iterations N, a whole number of 1 or more (now {self.agent.state.max_iterations}).",
                "error")
            return
        self.agent.state.max_iterations = value
        self._journal_settings(max_iterations=value)
        await self.chat.add_notice(f"At most {value} model requests per prompt.", "info")

    async def command_dump(self, argument: str) -> None:
        if not await self._need_agent():
            return
        assert self.agent is not None
        from tunacode_tui.ui.screens.history_dump import HistoryDumpScreen

        self.screen.app.push_screen(HistoryDumpScreen(list(self.agent.state.messages), self.agent.meter.count,
                                                      self.session.config.secrets()))

    async def command_analytics(self, argument: str) -> None:
        if argument.lower() not in ("", "tools"):
            await self.chat.add_notice("Usage: /analytics tools", "error")
            return
        if not await self._need_agent():
            return
        assert self.agent is not None
        from tunacode_tui.session.analytics import format_seconds, tool_analytics
        from tunacode_tui.ui.format import request_summary

        state = self.agent.state
        stats = tool_analytics(state.calls, state.batches, state.measurements.values())
        if not stats.tools:
            await self.chat.add_notice(f"No tool calls yet. {request_summary(self.agent.state)}", "info")
            return
        lines = ["### Tool analytics", "", "| Tool | Calls | Failed | Mean | p95 |",
                 "| --- | ---: | ---: | ---: | ---: |"]
        lines += [f"| {t.name} | {t.calls} | {t.failures} | {format_seconds(t.mean)} | {format_seconds(t.p95)} |"
                  for t in stats.tools]
        lines += [
            "",
            f"{stats.total_calls} calls in {stats.batches} batches, mean batch size {stats.mean_batch_size:.1f}.",
            "",
            stats.overlap_line() + ".",
            "",
            stats.measured_line() + ".",
            "",
            request_summary(self.agent.state),
        ]
        await self.chat.add_markdown("\n".join(lines))

    async def command_undo(self, argument: str) -> None:
        if not await self._need_agent(idle=True):
            return
        assert self.agent is not None
        report = self.agent.undo()
        await self.chat.add_notice(report.summary(), "warning" if report.skipped else "info")

    async def command_resume(self, argument: str) -> None:
        from tunacode_tui.session.store import list_sessions

        if not argument:
            sessions = [s for s in list_sessions(self.session.root)
                        if self.session.journal is None or s.id != self.session.journal.id][:15]
            if not sessions:
                await self.chat.add_notice(f"No other saved sessions for {self.session.root}.", "info")
                return
            lines = ["### Saved sessions", "", "| ID | Messages | Last activity | First prompt |",
                     "| --- | ---: | --- | --- |"]
            lines += [f"| `{s.id}` | {s.messages} | {s.last_activity:%Y-%m-%d %H:%M} | {s.preview} |"
                      if s.last_activity else f"| `{s.id}` | {s.messages} | | {s.preview} |" for s in sessions]
            lines += ["", "Reopen one with `/resume ID` (a unique prefix is enough)."]
            await self.chat.add_markdown("\n".join(lines))
            return
        if self.screen.busy:
            await self.chat.add_notice("A request is running: press Esc to cancel it first.", "warning")
            return
        error = self.session.reopen(argument.strip())
        if error:
            await self.chat.add_notice(error, "error")

    async def command_export(self, argument: str) -> None:
        if not await self._need_agent():
            return
        assert self.agent is not None
        from tunacode_tui.session.export import export_markdown

        journal = self.session.journal
        name = f"tunacode-{journal.id}.md" if journal is not None else "tunacode-session.md"
        target = self.session.root / (argument.strip() or name)
        try:
            written = export_markdown(self.agent.state, target, secrets=self.session.config.secrets())
        except OSError as exc:
            await self.chat.add_notice(f"Could not write {target}: {exc.strerror or exc}.", "error")
            return
        await self.chat.add_notice(f"Exported the conversation to {written}.", "info")

    async def command_mcp(self, argument: str) -> None:
        from tunacode_tui.agent.mcp_servers import status_table

        mcp = self.session.mcp
        if mcp is None:
            await self.chat.add_notice("MCP servers are not available in this view.", "error")
            return
        if argument.lower() == "approve":
            if not mcp.ask():
                await self.chat.add_notice("No project MCP servers are waiting for an answer.", "info")
            return
        if argument:
            await self.chat.add_notice("Usage: /mcp [approve]", "error")
            return
        await self.chat.add_markdown(status_table(mcp.statuses()))

    async def command_exit(self, argument: str) -> None:
        self.screen.app.exit(0)
