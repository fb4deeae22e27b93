"""The main screen: chat on the left, tool activity and the context gauge on the right, prompt below.

It owns the conversation's workers: one agent turn at a time (group ``agent``) and compaction (group
``compact``); the turn's tool calls are the app's workers (``batch-N``, see ``ui/spawner.py``). Agent events
arrive as ``AgentEventPosted`` messages, in order, and are turned into widgets here (one ``match``).

Everything session-scoped (journal, resumed session, start-up notices, config, root, how to ``/resume``)
comes in as a ``SessionContext``; the slash commands live in ``MainCommands`` (``main_commands.py``), which
sees this screen through a Protocol. Neither this module nor the commands import the app.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from textual import getters, on
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Footer, Header
from textual.worker import Worker, WorkerState

from tunacode_tui.core.events import (
    AgentEvent,
    AssistantMessageAdded,
    BatchFinished,
    BatchGrew,
    BatchMeasured,
    BatchStarted,
    ContextTrimmed,
    Notice,
    PermissionDecision,
    PermissionRequested,
    RequestStarted,
    TextDelta,
    ThinkingDelta,
    ToolCallFinished,
    ToolCallStarted,
    TurnEnded,
    TurnStarted,
    UsageUpdated,
)
from tunacode_tui.core.messages import TextPart
from tunacode_tui.session.prompt_history import PromptHistory
from tunacode_tui.ui import format as fmt
from tunacode_tui.ui import heap
from tunacode_tui.ui.activity import ActivityLog, BatchRecord, batch_message
from tunacode_tui.ui.commands import SlashCommandsProvider
from tunacode_tui.ui.messages import AgentEventPosted
from tunacode_tui.ui.screens.main_commands import MainCommands
from tunacode_tui.ui.session_context import SessionContext
from tunacode_tui.ui.widgets.chat_log import ChatLog
from tunacode_tui.ui.widgets.completion_menu import CompletionMenu
from tunacode_tui.ui.widgets.context_gauge import ContextGauge
from tunacode_tui.ui.widgets.notice_block import NoticeBlock
from tunacode_tui.ui.widgets.prompt_input import PromptInput
from tunacode_tui.ui.widgets.tool_activity import ToolActivity

if TYPE_CHECKING:
    from tunacode_tui.agent.loop import Agent

NARROW_BELOW = 110
"""Columns below which the side panes leave the chat's way (80x24 is the default terminal)."""
QUIT_PRESS_SECONDS = 2.0
"""Two Ctrl+C presses this close on an idle app with an empty prompt quit."""

PLACEHOLDER = "Ask anything — / for commands, @ for files, Shift+Enter for a new line"


class MainScreen(Screen[None]):
    """The conversation. Esc or Ctrl+C cancels what runs; Ctrl+L clears (Ctrl+Z undoes it); Ctrl+O compacts
    after asking; Ctrl+T shows or hides the side panes; Tab moves between panes."""

    CSS_PATH = "main.tcss"
    COMMANDS = {SlashCommandsProvider}
    AUTO_FOCUS = "#prompt"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (NARROW_BELOW, "-wide")]
    """Below ``NARROW_BELOW`` columns the side panes leave the chat's way (see main.tcss)."""

    # Ctrl+K is readline's kill-line, pressed by reflex while editing: compaction (a paid request) is on Ctrl+O
    # and asks first. Ctrl+L, readline's clear-screen, is undoable for ``UNDO_CLEAR_SECONDS``.
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", tooltip="Cancel the running request or compaction, tools included"),
        Binding("ctrl+c", "interrupt", "Cancel", show=False,
                tooltip="Copy the selected text; otherwise cancel the running request; twice on an idle app quits"),
        Binding("ctrl+l", "clear", "Clear", priority=True,
                tooltip="Clear the conversation and activity (/clear); Ctrl+Z right after brings it back"),
        Binding("ctrl+z", "undo_clear", "Undo clear", show=False, priority=True,
                tooltip="Right after Ctrl+L: restore the cleared conversation"),
        Binding("ctrl+o", "compact", "Compact", show=False, priority=True,
                tooltip="Summarise the conversation (/compact), after asking"),
        Binding("ctrl+t", "toggle_side", "Panes", priority=True,
                tooltip="Show or hide the tool activity and context panes"),
        Binding("tab", "next_pane", "Next pane", show=False,
                tooltip="Move to the next pane: prompt, chat, tool activity"),
        Binding("shift+tab", "previous_pane", "Prev pane", show=False, tooltip="Move to the previous pane"),
    ]

    chat = getters.query_one("#chat", ChatLog)
    prompt = getters.query_one("#prompt", PromptInput)
    menu = getters.query_one("#completions", CompletionMenu)
    activity = getters.query_one("#activity", ToolActivity)
    gauge = getters.query_one("#gauge", ContextGauge)

    busy: reactive[bool] = reactive(False)
    """A turn or a compaction is running."""
    show_thoughts: reactive[bool] = reactive(False)

    def __init__(self, agent: Agent | None, session: SessionContext) -> None:
        super().__init__()
        self.agent = agent
        self.session = session
        self.commands = MainCommands(self)
        self.activity_log = ActivityLog(self._summarize)
        self.queued: list[str] = []
        self._work: Worker[Any] | None = None
        self._permission_screens: list[Screen[PermissionDecision]] = []
        self._last_error = ""
        self._batch_notices: dict[int, NoticeBlock] = {}
        self._streamed = False  # whether the current request's text arrived as deltas
        self._heap_timer: Timer | None = None
        self._pruned_at_full_settle = 0  # the chat's pruned-block count at the last full settle (ui/heap.py)
        self._last_interrupt = -QUIT_PRESS_SECONDS  # monotonic time of the last Ctrl+C that could quit

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="body"):
            with Vertical(id="chat-column"):
                yield ChatLog(id="chat")
                yield CompletionMenu(id="completions")
                yield PromptInput(id="prompt", root=self.session.root, placeholder=PLACEHOLDER,
                                  history=PromptHistory(self.session.root) if self.session.keep_history else None)
            with Vertical(id="side"):
                yield ToolActivity(id="activity")
                yield ContextGauge(id="gauge")
        yield Footer()

    async def on_mount(self) -> None:
        self.chat.border_title = "Chat"
        self.activity.border_title = "Tool activity"
        self.gauge.border_title = "Context"
        if self.app.animation_level == "none":
            self.prompt.cursor_blink = False
        for level, text in self.session.notices:
            await self.chat.add_notice(text, level)
        self.session.notices.clear()
        if self.agent is not None:
            await self._start_agent(self.agent)

    async def attach(self, agent: Agent, session: SessionContext) -> None:
        """An agent for a screen that opened without one (``/model`` after a bad start-up model)."""
        self.agent, self.session = agent, session
        for level, text in session.notices:
            await self.chat.add_notice(text, level)
        session.notices.clear()
        await self._start_agent(agent)

    async def _start_agent(self, agent: Agent) -> None:
        agent.set_sink(self.emit)
        info = agent.model_info
        self.app.sub_title = agent.model.full_name
        self.gauge.model = agent.model.full_name
        self.gauge.show_context(0, info.context_window)
        self.gauge.show_usage(0, 0.0, agent.state.usage.total_tokens, agent.state.cost.value)
        if self.session.resumed is not None:
            await self._show_resumed(self.session.resumed.id)
        # Counting the system prompt and tool schemas loads the tokenizer: in a thread, so the app opens at once.
        self.run_worker(agent.context_tokens, name="context", group="context", description="count context tokens",
                        thread=True, exit_on_error=False)

    # -- helpers ------------------------------------------------------------------------------
    def _summarize(self, name: str, args: dict[str, Any]) -> str:
        tool = self.agent.tools.get(name) if self.agent else None
        if tool is None:
            return ""
        try:
            return tool.summary(args)
        except Exception:  # a summary is decoration; a bad argument must not break the pane
            return ""

    def emit(self, event: AgentEvent) -> None:
        """The agent's event sink for a turn: posted to this screen (the journal listens on the agent)."""
        self._post_event(event)

    def _post_event(self, event: AgentEvent) -> None:
        # The loop runs on the app's event loop, so posting is enough: no call_from_thread.
        self.post_message(AgentEventPosted(event))

    async def _show_resumed(self, session_id: str) -> None:
        """A resumed conversation: its recent prompts and answers, and its tool activity."""
        assert self.agent is not None
        state = self.agent.state
        await self.show_history()
        # The rows the pane showed live: none from before a /clear (the analytics still count those).
        for batch in state.batches:
            if batch.batch >= state.activity_start:
                self.activity_log.apply(batch)
        for call in state.calls:
            self.activity_log.apply(call)
        for measured in state.measurements.values():
            self.activity_log.apply(measured)
        for record in self.activity_log.batches.values():
            await self.activity.show_batch(record)
        await self.chat.add_notice(
            f"Resumed session {session_id}: {len(state.messages)} messages.", "info")

    async def show_history(self) -> None:
        """The live history's recent prompts and answers (after a resume, or an undone clear)."""
        assert self.agent is not None
        shown = [m for m in self.agent.state.messages if (m.role == "user" and not m.tool_results) or
                 (m.role == "assistant" and m.text.strip())]
        for message in shown[-self.chat.max_blocks // 2:]:
            if message.role == "user":  # the prompt as typed, not the @files attached to it
                await self.chat.add_user(message.parts[0].text if isinstance(message.parts[0], TextPart)
                                         else message.text)
            else:
                await self.chat.add_answer(message.text)

    def activity_records(self) -> list[BatchRecord]:
        return list(self.activity_log.batches.values())

    async def show_batches(self, records: list[BatchRecord]) -> None:
        """Batches of an undone clear, back in the activity pane as they were."""
        for record in records:
            self.activity_log.batches[record.number] = record
            await self.activity.show_batch(record)

    def watch_busy(self, busy: bool) -> None:
        if not self.is_mounted:
            return
        self.prompt.set_class(busy, "-busy")
        self.prompt.border_subtitle = "working… Esc or Ctrl+C cancels" if busy else ""

    async def clear_view(self) -> None:
        """Empty the chat and the activity pane (``/clear``); the agent's history is the caller's business."""
        self.activity_log.clear()
        self._batch_notices.clear()
        await self.chat.clear_blocks()
        await self.activity.clear_batches()

    def refresh_context(self) -> None:
        if self.agent is not None:
            self.gauge.show_context(self.agent.context_tokens(), self.agent.model_info.context_window)

    def show_totals(self) -> None:
        if self.agent is not None:
            state = self.agent.state
            self.gauge.show_usage(0, 0.0, state.usage.total_tokens, state.cost.value)

    # -- running the agent --------------------------------------------------------------------
    def start_turn(self, prompt: str) -> None:
        assert self.agent is not None
        agent = self.agent
        self.busy = True
        self._last_error = ""
        self._work = self.run_worker(
            agent.run_turn(prompt, self.emit), name="turn", group="agent",
            description=f"turn: {fmt.one_line(prompt, 60)}", exclusive=True, exit_on_error=False,
        )

    def start_compaction(self, focus: str) -> None:
        assert self.agent is not None
        self.busy = True
        self._work = self.run_worker(
            self.agent.compact(focus), name="compact", group="compact",
            description="compact the conversation", exit_on_error=False,
        )

    def action_cancel(self) -> None:
        if self._work is not None and self._work.is_running:
            self._work.cancel()

    def action_interrupt(self) -> None:
        """Ctrl+C as users expect it: copy a selection, else cancel what runs, else clear the prompt, else (twice
        within ``QUIT_PRESS_SECONDS``) quit. The prompt's own selection is copied by the prompt before this runs."""
        selected = self.get_selected_text()
        if selected:
            self.app.copy_to_clipboard(selected)
            lines = selected.count("\n") + 1
            self.notify(f"Copied {lines} line{'s' if lines != 1 else ''} to the clipboard.", timeout=2)
            return
        if self._work is not None and self._work.is_running:
            self._work.cancel()
            return
        if self.prompt.text:
            self.prompt.clear()  # undoable with Ctrl+Z, like any edit
            return
        now = time.monotonic()
        if now - self._last_interrupt <= QUIT_PRESS_SECONDS:
            self.app.exit(0)
            return
        self._last_interrupt = now
        self.notify(f"Press Ctrl+C again within {QUIT_PRESS_SECONDS:g} s to quit (or Ctrl+Q).",
                    title="Quit?", timeout=QUIT_PRESS_SECONDS)

    def action_toggle_side(self) -> None:
        self.toggle_class("-side-toggled")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place this screen's worker endings are handled: agent turns, compaction, context count."""
        worker, state = event.worker, event.state
        if worker.group == "context" and state == WorkerState.SUCCESS and self.agent is not None:
            self.gauge.show_context(worker.result or 0, self.agent.model_info.context_window)
            return
        if worker is not self._work or state not in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            return
        self._work = None
        self.call_next(self._work_ended, worker, state)

    async def _work_ended(self, worker: Worker[Any], state: WorkerState) -> None:
        self.busy = False
        self._settle_heap_later()
        if worker.group == "compact":
            if state == WorkerState.ERROR:
                await self.chat.add_notice(f"Compaction failed: {worker.error}. The conversation is unchanged.",
                                           "error")
            elif state == WorkerState.CANCELLED:
                await self.chat.add_notice("Compaction cancelled; the conversation is unchanged.", "warning")
            self.refresh_context()
        elif state == WorkerState.CANCELLED:
            await self._settle(time.monotonic())  # normally done already, on TurnEnded
        elif state == WorkerState.ERROR:
            # run_turn reports provider errors itself; anything else escaping it is a bug worth showing whole.
            await self._settle(time.monotonic())
            await self.chat.add_notice(
                f"The request stopped unexpectedly: {type(worker.error).__name__}: {worker.error}. "
                "The conversation is kept; you can send another prompt.", "error")
        if self.queued and self.agent is not None:
            prompt = self.queued.pop(0)
            self.start_turn(prompt)
            await self.chat.add_user(prompt)

    def _settle_heap_later(self) -> None:
        """Collect garbage once the app has been idle a moment (``ui/heap.py``); one timer for a burst of turns."""
        if not heap.KEEPER.enabled:
            return
        if self._heap_timer is not None:
            self._heap_timer.stop()
        self._heap_timer = self.set_timer(heap.SETTLE_DELAY, self._settle_heap, name="settle the heap")

    def _settle_heap(self) -> None:
        self._heap_timer = None
        if self.busy:
            return
        full = self.chat.pruned - self._pruned_at_full_settle >= heap.FULL_AFTER_PRUNED
        if full:
            self._pruned_at_full_settle = self.chat.pruned
        heap.KEEPER.settle(full=full)

    async def _settle(self, now: float) -> None:
        await self.chat.end_answer()
        for record in self.activity_log.settle(now):
            await self.activity.show_batch(record)
            self._sync_inspector(record)
        for screen in self._permission_screens:
            screen.dismiss(PermissionDecision(False, reason="The turn was cancelled."))
        self._permission_screens.clear()

    # -- agent events -------------------------------------------------------------------------
    async def on_agent_event_posted(self, message: AgentEventPosted) -> None:
        """One case per event kind the screen shows; the rest (history, model changes) are for listeners."""
        event, chat = message.event, self.chat
        match event:
            case TextDelta():
                self._streamed = True
                await chat.append_answer(event.text)
            case RequestStarted():
                self._streamed = False
            case ThinkingDelta():
                if self.show_thoughts:
                    await chat.append_thinking(event.text)
            case AssistantMessageAdded():
                if self._streamed:
                    await chat.end_answer()
                elif event.message.text.strip():  # not streamed (streaming off): the whole answer at once
                    await chat.add_answer(event.message.text)
            case (BatchStarted() | BatchGrew() | ToolCallStarted() | ToolCallFinished() | BatchFinished()
                  | BatchMeasured()):
                await self._activity_event(event)
            case UsageUpdated():
                self.gauge.show_context(event.context_tokens, event.context_window)
                self.gauge.show_usage(event.turn_usage.total_tokens, event.turn_cost,
                                      event.session_usage.total_tokens, event.session_cost)
            case ContextTrimmed():
                self.gauge.note_trim(event.kind, event.count)
            case Notice():
                if event.level == "error":
                    self._last_error = event.text
                await chat.add_notice(event.text, event.level)
            case PermissionRequested():
                self._ask_permission(event)
            case TurnStarted(attachments=files) if files:
                chat.show_attachments(files)
            case TurnEnded():
                await self._turn_ended(event)

    async def _activity_event(self, event: AgentEvent) -> None:
        record = self.activity_log.apply(event)
        if record is None:
            return
        await self.activity.show_batch(record)
        self._sync_inspector(record)
        if isinstance(event, ToolCallFinished) and event.call_id in record.calls:
            await self.chat.add_tool_call(record.calls[event.call_id])
        if self.show_thoughts and isinstance(event, BatchStarted | BatchGrew | BatchFinished | BatchMeasured):
            # One line per batch, updated as it grows and when it ends.
            line = self._batch_notices.get(record.number)
            if line is None:
                line = self._batch_notices[record.number] = NoticeBlock(batch_message(record), "system")
                await self.chat.add_block(line)
            else:
                line.set_text(batch_message(record))

    def _sync_inspector(self, record: BatchRecord) -> None:
        from tunacode_tui.ui.screens.batch_inspector import BatchInspectorScreen

        for screen in self.app.screen_stack:
            if isinstance(screen, BatchInspectorScreen) and screen.record is record:
                screen.sync()

    async def _turn_ended(self, event: TurnEnded) -> None:
        await self._settle(event.t)
        self._settle_heap_later()
        if event.reason == "cancelled":
            await self.chat.add_notice("Cancelled. The partial answer and tool results are kept.", "warning")
        elif event.reason == "error" and event.error and event.error != self._last_error:
            await self.chat.add_notice(event.error, "error")
        if event.reason == "error" and "--setup" in (event.error or ""):
            self.notify("Run `tunacode --setup` to save an API key.", severity="error", timeout=8)

    def _ask_permission(self, event: PermissionRequested) -> None:
        from tunacode_tui.ui.screens.permission import PermissionScreen

        screen = PermissionScreen(event.name, event.summary, event.preview, event.args)
        self._permission_screens.append(screen)

        def decided(decision: PermissionDecision | None) -> None:
            if screen in self._permission_screens:
                self._permission_screens.remove(screen)
            if not event.future.done():  # the turn may have been cancelled while the modal was open
                event.future.set_result(decision or PermissionDecision(False))

        self.app.push_screen(screen, decided)

    # -- slash commands (the handlers are in MainCommands) ---------------------------------------
    def run_command(self, text: str) -> None:
        """From the command palette: run after the current message."""
        self.call_next(self.execute_command, text)

    async def execute_command(self, text: str) -> None:
        await self.commands.execute(text)

    async def action_clear(self) -> None:
        await self.commands.command_clear("")

    async def action_compact(self) -> None:
        await self.commands.confirm_compact()

    def action_undo_clear(self) -> None:
        """Ctrl+Z right after a clear restores it; any other time Ctrl+Z goes on to the prompt (its own undo)."""
        cleared = self.commands.take_cleared()
        if cleared is None:
            raise SkipAction()
        self.call_next(self.commands.restore_cleared, cleared)

    # -- prompt -------------------------------------------------------------------------------
    async def on_prompt_input_submitted(self, event: PromptInput.Submitted) -> None:
        text = event.text
        head = text.split(maxsplit=1)[0]
        if text.startswith("/") and "/" not in head[1:]:  # "/usr/bin/env …" is a prompt, not a command
            await self.execute_command(text)
            return
        if self.agent is None:
            await self.chat.add_notice("No model is available: fix the model with /model or run `tunacode --setup`.",
                                       "error")
            return
        if self.busy:
            self.queued.append(text)
            await self.chat.add_notice(f"Queued (sent when the current request ends): {fmt.one_line(text, 60)}",
                                       "system")
            return
        # The request first: its worker sends while the prompt is mounted and painted (Enter -> request leaves is
        # what a user waits on). The answer's events queue behind this handler, so the prompt still shows first.
        self.start_turn(text)
        await self.chat.add_user(text)

    @on(PromptInput.CompletionsChanged)
    def _completions_changed(self, event: PromptInput.CompletionsChanged) -> None:
        self.menu.show(event.candidates, event.chosen)

    def prefill_prompt(self, text: str) -> None:
        self.prompt.load_text(text)
        self.prompt.move_cursor(self.prompt.document.end)
        self.prompt.focus()

    # -- panes --------------------------------------------------------------------------------
    @property
    def panes(self) -> list[Widget]:
        return [self.prompt, self.chat, self.activity]

    def _move_pane(self, step: int) -> None:
        panes = self.panes
        focused = self.focused
        index = 0
        for i, pane in enumerate(panes):
            if focused is not None and (focused is pane or pane in focused.ancestors):
                index = i
                break
        self.set_focus(panes[(index + step) % len(panes)])  # at once: a second Tab may already be queued

    def action_next_pane(self) -> None:
        self._move_pane(1)

    def action_previous_pane(self) -> None:
        self._move_pane(-1)

    @on(ToolActivity.BatchSelected)
    def _inspect_batch(self, event: ToolActivity.BatchSelected) -> None:
        from tunacode_tui.ui.screens.batch_inspector import BatchInspectorScreen

        self.app.push_screen(BatchInspectorScreen(event.record, agent=self.agent, busy=lambda: self.busy))
