"""The slash commands of the main screen, one ``command_<name>`` method each (see ``ui/commands.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.binding import Binding

from tunacode_tui.ui import commands
from tunacode_tui.ui import format as fmt

if TYPE_CHECKING:
    from tunacode_tui.ui.screens.main import MainScreen

# Keys beyond the screen's own bindings, as /help lists them.
PROMPT_KEYS: tuple[tuple[str, str], ...] = (
    ("Enter", "Send the prompt (or accept the highlighted completion)"),
    ("Shift+Enter, Ctrl+J", "New line in the prompt"),
    ("Up / Down", "Previous / next prompt (on the first / last line); choose a completion"),
    ("Tab", "Accept the completion; otherwise move to the next pane"),
    ("Enter (tool activity)", "Open the highlighted batch in the inspector (or click it)"),
    ("Ctrl+P", "Command palette"),
    ("Ctrl+Q", "Quit"),
)


def _on_off(value: str, current: bool) -> bool | None:
    value = value.lower()
    if not value:
        return not current
    return {"on": True, "off": False}.get(value)


class CommandsMixin:
    """Command handlers for ``MainScreen``. Each takes the argument text and reports in the chat."""

    # -- dispatch -----------------------------------------------------------------------------
    def run_command(self: MainScreen, text: str) -> None:
        """From the command palette: run after the current message."""
        self.call_next(self.execute_command, text)

    async def execute_command(self: MainScreen, text: str) -> None:
        try:
            command, argument = commands.parse(text)
        except commands.UnknownCommand as exc:
            await self.chat.add_notice(str(exc), "error")
            return
        handler = getattr(self, command.method)
        await handler(argument)

    async def _need_agent(self: MainScreen, *, idle: bool = False) -> bool:
        if self.agent is None:
            await self.chat.add_notice("No model is available: pick one with /model or run `tunacode --setup`.",
                                       "error")
            return False
        if idle and self.busy:
            await self.chat.add_notice("A request is running: press Esc to cancel it first.", "warning")
            return False
        return True

    def _journal_settings(self: MainScreen, **changes: object) -> None:
        if self.app.journal is not None:
            self.app.journal.settings(**changes)

    # -- actions bound to keys ----------------------------------------------------------------
    async def action_clear(self: MainScreen) -> None:
        await self.command_clear("")

    async def action_compact(self: MainScreen) -> None:
        await self.command_compact("")

    # -- the commands -------------------------------------------------------------------------
    async def command_help(self: MainScreen, argument: str) -> None:
        lines = ["### Commands", "", "| Command | What it does |", "| --- | --- |"]
        lines += [f"| `{c.usage}` | {c.help} |" for c in commands.COMMANDS]
        lines += ["", "### Keys", "", "| Key | What it does |", "| --- | --- |"]
        for binding in self.BINDINGS:
            assert isinstance(binding, Binding)
            lines.append(f"| {self.app.get_key_display(binding)} | {binding.tooltip or binding.description} |")
        lines += [f"| {key} | {description} |" for key, description in PROMPT_KEYS]
        await self.chat.add_markdown("\n".join(lines))

    async def command_clear(self: MainScreen, argument: str) -> None:
        if not await self._need_agent(idle=True):
            return
        assert self.agent is not None
        everything = argument.lower() == "all"
        self.agent.clear(reset_totals=everything)
        self.activity_log.clear()
        self._batch_notices.clear()
        await self.chat.clear_blocks()
        await self.activity.clear_batches()
        self.refresh_context()
        self.show_totals()
        await self.chat.add_notice("Cleared the conversation and totals." if everything
                                   else "Cleared the conversation (totals kept; /clear all resets them).", "info")

    async def command_compact(self: MainScreen, argument: str) -> None:
        if not await self._need_agent(idle=True):
            return
        assert self.agent is not None
        if len(self.agent.state.messages) < 2:
            await self.chat.add_notice("Nothing to compact yet.", "info")
            return
        focus = f" (focus: {argument})" if argument else ""
        await self.chat.add_notice(f"Compacting the conversation{focus}… Esc cancels.", "info")
        self.start_compaction(argument)

    async def command_model(self: MainScreen, argument: str) -> None:
        if not argument:
            from tunacode_tui.ui.screens.model_picker import ModelPickerScreen

            current = self.agent.model.full_name if self.agent else ""

            async def picked(name: str | None) -> None:
                if name:
                    await self.command_model(name)

            self.app.push_screen(ModelPickerScreen(current), picked)
            return
        from tunacode_tui.providers.errors import ConfigurationError
        from tunacode_tui.providers.registry import parse_model_name

        try:
            ref = parse_model_name(argument)
        except ConfigurationError as exc:
            await self.chat.add_notice(str(exc), "error")
            return
        if self.agent is None:
            await self.chat.add_notice("No agent is running; restart with --model to use this model.", "error")
            return
        self.agent.set_model(ref)
        info = self.agent.model_info
        self.app.sub_title = ref.full_name
        self.gauge.model = ref.full_name
        self.refresh_context()
        price = (f"${info.price.input:g}/${info.price.output:g} per million tokens in/out" if info.price
                 else "price unknown")
        known = "" if info.known else " (not in the catalog: default window, price unknown)"
        await self.chat.add_notice(
            f"Model: {ref.full_name}{known}, {fmt.tokens(info.context_window)}-token window, {price}.", "info")
        if ref.provider not in self.app.config.api_keys and ref.provider != "openai-compatible":
            await self.chat.add_notice(
                f"There is no API key for {ref.provider} yet: requests will fail until you run `tunacode --setup` "
                "or set its key variable.", "warning")

    async def command_thoughts(self: MainScreen, argument: str) -> None:
        value = _on_off(argument, self.show_thoughts)
        if value is None:
            await self.chat.add_notice("Usage: /thoughts on|off", "error")
            return
        self.show_thoughts = value
        await self.chat.add_notice(f"Thinking and batch messages {'shown' if value else 'hidden'}.", "info")

    async def command_streaming(self: MainScreen, argument: str) -> None:
        settings = self.app.config.settings
        value = _on_off(argument, settings.enable_streaming)
        if value is None:
            await self.chat.add_notice("Usage: /streaming on|off", "error")
            return
        settings.enable_streaming = value
        self._journal_settings(enable_streaming=value)
        await self.chat.add_notice(f"Streaming {'on' if value else 'off'}.", "info")

    async def command_yolo(self: MainScreen, argument: str) -> None:
        if not await self._need_agent():
            return
        assert self.agent is not None
        state = self.agent.state
        state.yolo = not state.yolo
        self._journal_settings(yolo=state.yolo)
        await self.chat.add_notice(
            "YOLO on: writes and bash run without asking." if state.yolo
            else "YOLO off: writes and bash ask first.", "warning" if state.yolo else "info")

    async def command_iterations(self: MainScreen, argument: str) -> None:
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

    async def command_dump(self: MainScreen, argument: str) -> None:
        if not await self._need_agent():
            return
        assert self.agent is not None
        from tunacode_tui.ui.screens.history_dump import HistoryDumpScreen

        self.app.push_screen(HistoryDumpScreen(list(self.agent.state.messages), self.agent.meter.count,
                                               self.app.config.secrets()))

    async def command_analytics(self: MainScreen, argument: str) -> None:
        if argument.lower() not in ("", "tools"):
            await self.chat.add_notice("Usage: /analytics tools", "error")
            return
        if not await self._need_agent():
            return
        assert self.agent is not None
        from tunacode_tui.session.analytics import format_seconds, tool_analytics
        from tunacode_tui.ui.format import request_summary

        stats = tool_analytics(self.agent.state.calls, self.agent.state.batches)
        if not stats.tools:
            await self.chat.add_notice(f"No tool calls yet. {request_summary(self.agent.state)}", "info")
            return
        lines = ["### Tool analytics", "", "| Tool | Calls | Failed | Mean | p95 |",
                 "| --- | ---: | ---: | ---: | ---: |"]
        lines += [f"| {t.name} | {t.calls} | {t.failures} | {format_seconds(t.mean)} | {format_seconds(t.p95)} |"
                  for t in stats.tools]
        speedup = "none yet" if stats.mean_speedup is None else f"{stats.mean_speedup:.2f}x (measured)"
        lines += [
            "",
            f"{stats.total_calls} calls in {stats.batches} batches, mean batch size {stats.mean_batch_size:.1f}; "
            f"{stats.parallel_batches} parallel batches, mean speedup {speedup}.",
            "",
            request_summary(self.agent.state),
        ]
        await self.chat.add_markdown("\n".join(lines))

    async def command_undo(self: MainScreen, argument: str) -> None:
        if not await self._need_agent(idle=True):
            return
        assert self.agent is not None
        report = self.agent.undo()
        await self.chat.add_notice(report.summary(), "warning" if report.skipped else "info")

    async def command_resume(self: MainScreen, argument: str) -> None:
        from tunacode_tui.session.store import list_sessions

        if not argument:
            sessions = [s for s in list_sessions(self.app.root)
                        if self.app.journal is None or s.id != self.app.journal.id][:15]
            if not sessions:
                await self.chat.add_notice(f"No other saved sessions for {self.app.root}.", "info")
                return
            lines = ["### Saved sessions", "", "| ID | Messages | Last activity | First prompt |",
                     "| --- | ---: | --- | --- |"]
            lines += [f"| `{s.id}` | {s.messages} | {s.last_activity:%Y-%m-%d %H:%M} | {s.preview} |"
                      if s.last_activity else f"| `{s.id}` | {s.messages} | | {s.preview} |" for s in sessions]
            lines += ["", "Reopen one with `/resume ID` (a unique prefix is enough)."]
            await self.chat.add_markdown("\n".join(lines))
            return
        if self.busy:
            await self.chat.add_notice("A request is running: press Esc to cancel it first.", "warning")
            return
        error = self.app.reopen_session(argument.strip())
        if error:
            await self.chat.add_notice(error, "error")

    async def command_export(self: MainScreen, argument: str) -> None:
        if not await self._need_agent():
            return
        assert self.agent is not None
        from tunacode_tui.session.export import export_markdown

        name = f"tunacode-{self.app.journal.id}.md" if self.app.journal is not None else "tunacode-session.md"
        target = self.app.root / (argument.strip() or name)
        try:
            written = export_markdown(self.agent.state, target, secrets=self.app.config.secrets())
        except OSError as exc:
            await self.chat.add_notice(f"Could not write {target}: {exc.strerror or exc}.", "error")
            return
        await self.chat.add_notice(f"Exported the conversation to {written}.", "info")

    async def command_exit(self: MainScreen, argument: str) -> None:
        self.app.exit(0)
