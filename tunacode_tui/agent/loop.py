"""The agent loop: send history and tool schemas, stream the answer, run the tools, repeat.

Hand-written and provider-agnostic: it talks to a ``Provider`` (neutral events in, neutral messages
out) and reports facts to an event sink. It never imports Textual.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from tunacode_tui.agent.accounting import ContextMeter
from tunacode_tui.agent.budget import cap_results, reply_tokens
from tunacode_tui.agent.checkpoints import Checkpoints, UndoReport
from tunacode_tui.agent.compaction import Compacted, compact_history
from tunacode_tui.agent.executor import AsyncioSpawner, ExecutionPolicy, ResponseExecutor, Spawner, call_signature
from tunacode_tui.agent.mentions import attach_mentions
from tunacode_tui.agent.prompt import build_system_prompt
from tunacode_tui.agent.room import make_room
from tunacode_tui.agent.turn import (
    LOOP_GUARD_PREFIX,
    EndReason,
    TurnProgress,
    dangling_results,
    stream_response,
)
from tunacode_tui.config.project import add_project_rule
from tunacode_tui.config.settings import Config
from tunacode_tui.core import permission_rules
from tunacode_tui.core.events import (
    AgentEvent,
    AssistantMessageAdded,
    BatchFinished,
    ContextTrimmed,
    EventSink,
    HistoryCleared,
    HistoryCompacted,
    HistoryRestored,
    MessageAppended,
    ModelChanged,
    Notice,
    PermissionDecision,
    PermissionRequested,
    RequestStarted,
    TurnEnded,
    TurnStarted,
    UsageUpdated,
)
from tunacode_tui.core.messages import Message, Part, ToolCallPart, ToolResultPart, ToolSpec, Usage, clean_message
from tunacode_tui.core.state import SessionState
from tunacode_tui.core.stream import StreamEnded
from tunacode_tui.providers import catalog
from tunacode_tui.providers.base import ChatRequest, ModelRef, Provider
from tunacode_tui.providers.errors import ConfigurationError, ContextOverflow, ProviderError
from tunacode_tui.tools.base import Tool, ToolContext

log = logging.getLogger("tunacode.agent")

ProviderFactory = Callable[[ModelRef], Provider]


class Agent:
    """One conversation with one model at a time. ``run_turn`` is cancellable at any await."""

    def __init__(
        self,
        *,
        config: Config,
        model: ModelRef,
        provider_factory: ProviderFactory,
        tools: list[Tool],
        root: Path,
        state: SessionState | None = None,
        spawner: Spawner | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.root = root
        self.state = state or SessionState(max_iterations=config.settings.max_iterations)
        self.state.allowed_tools.update(config.settings.allowed_tools)
        self.tools = {tool.name: tool for tool in tools}
        self.spawner: Spawner = spawner or AsyncioSpawner()
        self.clock = clock
        # Problems with the project's settings file, for whoever opens the agent to show (the factory fills it).
        self.startup_warnings: list[str] = []
        self.meter = ContextMeter()
        self.ctx = ToolContext(
            root=root,
            todos=self.state.todos,
            allowed_dirs=[Path(d).expanduser() for d in config.settings.allowed_dirs],
            # bash gets the environment minus provider keys, unless the user opted in.
            bash_env=dict(os.environ) if config.settings.pass_keys_to_bash else None,
        )
        self.checkpoints = Checkpoints()
        self.ctx.services["checkpoints"] = self.checkpoints
        self._provider_factory = provider_factory
        self.model = model
        self.system_prompt = build_system_prompt(root)
        # Listeners hear every event, in and out of a turn (the session journal is one); the agent does not
        # know who they are.
        self._listeners: list[EventSink] = []
        self._reported_windows: dict[str, int | None] = {}
        self._turn: TurnProgress | None = None  # the running turn, so a compaction inside it is billed to it
        self._emit: Callable[[AgentEvent], None] = lambda event: None

    # -- model ------------------------------------------------------------------------------------
    @property
    def model_info(self) -> catalog.ModelInfo:
        override = self.config.settings.context_window or self._reported_windows.get(self.model.full_name)
        return catalog.lookup(self.model.full_name, context_window_override=override)

    async def _discover_window(self) -> None:
        """For models the catalog does not know, ask the endpoint once (vLLM, OpenRouter, llama.cpp and
        others report it), so the gauge is right for local models too."""
        name = self.model.full_name
        if name in self._reported_windows or self.config.settings.context_window or self.model_info.known:
            return
        self._reported_windows[name] = None
        ask = getattr(self.provider, "context_window", None)
        if ask is None:
            return
        with contextlib.suppress(TimeoutError, ProviderError):
            self._reported_windows[name] = await asyncio.wait_for(ask(self.model.model), 5)

    def set_model(self, model: ModelRef) -> None:
        self.model = model
        self.publish(ModelChanged(model.full_name, self.clock()))

    @property
    def provider(self) -> Provider:
        return self._provider_factory(self.model)

    def context_tokens(self) -> int:
        return self.meter.estimate(self.system_prompt, self._specs(), self.state.messages)

    def _specs(self) -> list[ToolSpec]:
        # A snapshot: the context recount runs in a thread while an MCP server's tools may be added.
        return [tool.spec() for tool in list(self.tools.values())]

    def tool_specs(self) -> list[ToolSpec]:
        """The tool schemas every request sends (they count against the window)."""
        return self._specs()

    def wanted_reply_tokens(self) -> int:
        """The reply size asked for before the budget bounds it (``agent/budget.py``)."""
        return self.config.settings.max_response_tokens or min(self.model_info.max_output, 32_000)

    def add_tools(self, tools: list[Tool]) -> None:
        """Tools that arrive after start-up (an MCP server became ready): offered from the next request on.
        A name already taken by a different tool is refused with a notice: replacing it silently would send
        the model's calls of, say, ``read_file`` to another program."""
        for tool in tools:
            existing = self.tools.get(tool.name)
            origin = getattr(tool, "origin", None)
            if existing is not None and existing is not tool and (
                    origin is None or getattr(existing, "origin", None) != origin):
                self._notice("warning", f"Tool {tool.name} was not added: that name is already taken by another "
                                        "tool. Rename the MCP server (or tool) so the names differ.")
                continue
            self.tools[tool.name] = tool
        self.meter.invalidate(self.state.messages)  # the tool schemas are part of what the provider counted

    # -- events -----------------------------------------------------------------------------------
    def subscribe(self, listener: EventSink) -> None:
        """Hear every event from now on, including history changes made outside a turn."""
        self._listeners.append(listener)

    def set_sink(self, emit: Callable[[AgentEvent], None]) -> None:
        """Where events go between turns (a ``/compact``, a measurement) until a turn names its own sink: a
        front end sets it once, so what happens before the first prompt is shown too."""
        self._emit = emit

    def publish(self, event: AgentEvent) -> None:
        """Tell the listeners, then the running turn's sink (or the last one, between turns)."""
        for listener in self._listeners:
            listener(event)
        self._emit(event)

    def _append(self, message: Message) -> None:
        message = clean_message(message)  # one bad byte must never poison every later request
        self.state.messages.append(message)
        self.publish(MessageAppended(message, self.clock()))

    def _replace_history(self, messages: list[Message]) -> None:
        messages = [clean_message(m) for m in messages]
        self.state.messages[:] = messages
        self.meter.invalidate(self.state.messages)

    # -- permission -------------------------------------------------------------------------------
    async def _permission(self, call: ToolCallPart, tool: Tool) -> PermissionDecision:
        if self.state.yolo or permission_rules.allowed(self.state.allowed_tools, call.name, call.arguments):
            return PermissionDecision(True)
        preview = None
        make_preview = getattr(tool, "preview", None)
        if make_preview is not None:
            try:
                preview = await make_preview(call.arguments, self.ctx)
            except Exception as exc:  # a preview is a courtesy; the real run reports real errors
                preview = f"(no preview: {exc})"
        future: asyncio.Future[PermissionDecision] = asyncio.get_running_loop().create_future()
        self._emit(
            PermissionRequested(
                call.id, call.name, call.arguments, tool.summary(call.arguments), preview, future, self.clock()
            )
        )
        decision = await future
        if decision.allow and decision.always:
            self._remember(decision.rule, call.name)
        return decision

    def _remember(self, rule: str | None, tool: str) -> None:
        """"Always": a command rule is kept for the project (in the data folder, never in the project); a
        whole tool only for this session."""
        self.state.allowed_tools.add(rule or tool)
        if rule is None:
            return
        try:
            path = add_project_rule(self.root, rule)
        except (OSError, ValueError) as exc:
            self._notice("warning", f"Allowed {rule} for this session, but could not save it to the project's "
                                    f"settings ({exc}); it will be asked again next time.")
            return
        self._notice("info", f"Allowed {rule} from now on in this project (saved to {path}).")

    # -- the loop ---------------------------------------------------------------------------------
    async def run_turn(self, prompt: str, emit: Callable[[AgentEvent], None]) -> TurnEnded:
        """One user turn: request, stream, settle, until the model stops calling tools or a limit, an error or
        a cancel ends the turn. Every event goes to the listeners and to ``emit``, except a permission request,
        which only the sink that can answer it (``emit``) receives."""
        self._emit = emit
        message, attachments = attach_mentions(prompt, self.ctx)  # @path: the file's content goes along
        self.publish(TurnStarted(prompt, self.clock(), attachments))
        self.checkpoints.begin_turn()
        self._append(message)
        turn = self._turn = TurnProgress()
        try:
            while True:
                if turn.iteration >= self.state.max_iterations:
                    self._notice(
                        "warning",
                        f"Stopped after {turn.iteration} iterations (the limit). "
                        "Raise it with /iterations N and ask the model to continue.",
                    )
                    return self._end(turn, "max_iterations")
                turn.iteration += 1
                request = await self._next_request(turn)
                turn.executor = ResponseExecutor(self.tools, self.ctx, self._execution_policy(turn))
                provider = self.provider
                try:
                    ended = await stream_response(
                        provider,
                        request,
                        turn,
                        emit=self.publish,
                        clock=self.clock,
                        max_total_seconds=max(60.0, self.config.settings.request_timeout),
                        max_attempts=self.config.settings.max_retries + 1,
                    )
                except ContextOverflow as exc:
                    if turn.overflow_retried:
                        raise
                    turn.overflow_retried = True
                    turn.iteration -= 1
                    self._learn_from_overflow(exc, request)
                    self._notice("warning", f"{exc} Making room in the context and retrying once.")
                    await make_room(self, self.publish, forced=True)
                    continue
                reason = await self._settle(turn, ended)
                if reason is not None:
                    return self._end(turn, reason)
        except asyncio.CancelledError:
            await self._repair_after_cancel(turn)
            self._end(turn, "cancelled")
            raise
        except (ProviderError, ConfigurationError) as exc:
            self._close_dangling([])
            self._notice("error", str(exc))
            return self._end(turn, "error", str(exc))

    async def _next_request(self, turn: TurnProgress) -> ChatRequest:
        """The request for the next response: the window known, the history compacted if it must be."""
        await self._discover_window()
        await self._maybe_auto_compact()
        info = self.model_info
        request = ChatRequest(
            model=self.model.model,
            system=self.system_prompt,
            messages=list(self.state.messages),
            tools=self._specs(),
            max_tokens=reply_tokens(window=info.context_window, prompt_tokens=self.context_tokens(),
                                    wanted=self.wanted_reply_tokens()),
            stream=self.config.settings.enable_streaming,
            reasoning=self.config.settings.reasoning,
        )
        self.publish(RequestStarted(turn.iteration, self.model.full_name, self.clock()))
        return request

    def _execution_policy(self, turn: TurnProgress) -> ExecutionPolicy:
        settings = self.config.settings
        return ExecutionPolicy(
            permission=self._permission,
            next_batch_number=self.state.take_batch_number,
            max_parallel=settings.max_parallel,
            spawner=self.spawner,
            emit=self.publish,
            early_start=settings.early_tool_start,
            guard=lambda call: turn.loop_guard(call, self.config.settings.loop_guard_repeats),
            clock=self.clock,
        )

    async def _settle(self, turn: TurnProgress, ended: StreamEnded) -> EndReason | None:
        """Record a finished response and run its tool calls. Returns why the turn ends, or None to go on."""
        executor = turn.executor
        assert executor is not None
        if ended.stop_reason == "max_tokens":
            self._notice(
                "warning",
                "The answer was cut off at the response token limit. Raise "
                "settings.max_response_tokens, or ask the model to continue.",
            )
        message = ended.message
        # Calls that were never announced as ready (a provider that only reports them at the end).
        submitted = executor.submitted_ids
        for call in message.tool_calls:
            if call.id not in submitted:
                executor.submit(call)
        self._append(message)
        turn.in_stream = False  # the response is in the history now: nothing partial to keep after a cancel
        self.publish(AssistantMessageAdded(message, self.clock()))
        self._account(ended.usage, turn)
        if message.text:
            turn.text_out = message.text
        calls = message.tool_calls
        if not calls:
            turn.executor = None
            if not message.text.strip():
                self._notice("warning", "The model sent an empty response.")
            return "completed"

        results = await executor.finish()
        self._record_batches(executor, turn.batches)
        turn.executor = None
        self._append_results(list(results))
        turn.recent_calls.append({call_signature(c) for c in calls})
        guarded = [r for r in results if r.content.startswith(LOOP_GUARD_PREFIX)]
        if not guarded:
            return None
        self._notice(
            "warning",
            f"Loop guard: {guarded[0].name} was asked for again with the same arguments; it was not run.",
        )
        turn.guard_hits += 1
        return "loop_guard" if turn.guard_hits > 1 else None  # warned once and still repeating: stop

    async def _repair_after_cancel(self, turn: TurnProgress) -> None:
        """Leave a history the next turn can send: calls that ran keep their results, the others are marked
        cancelled, and a response cut short mid-stream is kept (its text, marked as cut short, and the calls
        it had finished asking for), so the next request carries what Esc promised to keep."""
        executor = turn.executor
        if executor is not None:
            await executor.cancel()
            self._record_batches(executor, turn.batches)
        if turn.in_stream:
            partial = turn.partial_answer(executor.submitted_calls if executor is not None else [],
                                          executor.results() if executor is not None else [])
            if partial is not None:
                self._append(partial)
        self._close_dangling(executor.results() if executor is not None else [])

    def _end(self, turn: TurnProgress, reason: EndReason, error: str | None = None) -> TurnEnded:
        self._turn = None
        event = turn.ended(reason, error, self.clock())
        self.publish(event)
        return event

    def _notice(self, level: Literal["info", "warning", "error"], text: str) -> None:
        self.publish(Notice(level, text, self.clock()))

    def _record_batches(self, executor: ResponseExecutor, batches: list[BatchFinished]) -> None:
        batches.extend(executor.batches)
        self.state.batches.extend(executor.batches)
        self.state.calls.extend(executor.finished_calls)

    def _close_dangling(self, results: list[ToolResultPart]) -> None:
        """Keep the history valid: every tool call in the last assistant message gets a result."""
        closing = dangling_results(self.state.messages[-1] if self.state.messages else None, results)
        if closing is not None:
            self._append(closing)

    def _account(
        self,
        usage: Usage,
        turn: TurnProgress,
        purpose: Literal["turn", "compaction"] = "turn",
        emit: Callable[[AgentEvent], None] | None = None,
    ) -> None:
        info = self.model_info
        cost = info.cost(usage)
        if purpose == "compaction":
            # Paid like any request, but its prompt was the old history: not a base for the context gauge.
            self.state.compactions += 1
            self.state.compaction_usage = self.state.compaction_usage + usage
            self.state.compaction_cost.add(cost)
        else:
            self.meter.record_usage(self.state.messages, usage)
        self.state.usage = self.state.usage + usage
        self.state.cost.add(cost)
        self.state.requests += 1
        turn.add_usage(usage, cost)
        (emit or self.publish)(
            UsageUpdated(
                usage,
                cost,
                turn.usage,
                turn.cost,
                self.state.usage,
                self.state.cost.value,
                self.context_tokens(),
                info.context_window,
                self.clock(),
                purpose,
            )
        )

    def clear(self, *, reset_totals: bool = False) -> None:
        """``/clear``: forget the conversation (the journal keeps it); ``/clear all`` also zeroes totals."""
        self.state.todos.clear()
        if reset_totals:
            self.state.reset_totals()
        self._replace_history([])
        self.publish(HistoryCleared(reset_totals, self.clock()))

    def restore_history(self, messages: list[Message], todos: list[dict[str, Any]]) -> None:
        """Undo a ``/clear`` (Ctrl+L pressed by reflex): ``messages`` and ``todos`` are the live history again."""
        self.state.todos[:] = copy.deepcopy(todos)
        self._replace_history(list(messages))
        self.publish(HistoryRestored(list(messages), copy.deepcopy(todos), self.clock()))

    def undo(self) -> UndoReport:
        """``/undo``: restore the files the last turn changed (see ``agent/checkpoints.py``)."""
        return self.checkpoints.undo(self.ctx)

    # -- compaction -------------------------------------------------------------------------------
    async def _maybe_auto_compact(self) -> None:
        """Before each request: clear old tool outputs, then summarise, when the next request would not fit."""
        await make_room(self, self.publish)

    def rewrite_history(self, outcome: Compacted) -> None:
        """Replace the live history (clearing, dropping or cutting, ``agent/room.py``); the journal records it."""
        self._replace_history(outcome.messages)
        self.publish(HistoryCompacted(outcome.summary, outcome.kept_count, list(outcome.messages), self.clock()))

    def _learn_from_overflow(self, exc: ContextOverflow, request: ChatRequest) -> None:
        """A refusal that states the server's window and prompt size corrects the window and local counts."""
        if exc.window and not self.config.settings.context_window:
            self._reported_windows[self.model.full_name] = exc.window
        if exc.prompt_tokens:
            local = self.meter.local_estimate(request.system, request.tools, request.messages)
            self.meter.calibrate(exc.prompt_tokens, round(local / self.meter.scale))

    def _append_results(self, results: list[ToolResultPart]) -> None:
        """The tool message, each result cut to its share of the window (the events keep the full output)."""
        capped, cut = cap_results(results, self.model_info.context_window)
        before = self.context_tokens() + sum(self.meter.count(Message("tool", [r])) for r in results) if cut else 0
        self._append(Message("tool", list[Part](capped)))
        if cut:
            event = ContextTrimmed("truncated", cut, before, self.context_tokens(), self.clock())
            self.publish(event)
            self._notice("info", event.text)

    async def compact(self, focus: str = "", *, automatic: bool = False, keep_turns: int | None = None) -> str:
        """Summarise and shorten the history. Returns the summary ("" when there was nothing to cut).
        Raises ``CompactionFailed`` (a ProviderError) when the summary is unusable; the history is kept.
        ``automatic`` (before a request or after an overflow) keeps a summary that was cut off. Its events go
        through ``publish``: the journal hears the bill, the front end's sink (``set_sink``) the notices."""
        bill = emit = self.publish
        # Inside a turn the summary is billed to it; a /compact between turns is its own paid step.
        turn = self._turn or TurnProgress()
        before = self.context_tokens()
        spent: list[Usage] = []
        try:
            outcome = await compact_history(
                provider=self.provider,
                model=self.model.model,
                system=self.system_prompt,
                messages=self.state.messages,
                focus=focus,
                reasoning=self.config.settings.reasoning,
                on_usage=spent.append,
                window=self.model_info.context_window,
                accept_cut=automatic,
                **({"keep_turns": keep_turns} if keep_turns else {}),
            )
        except BaseException:
            for usage in spent:  # a refused summary was still paid for
                self._account(usage, turn, "compaction", bill)
            raise
        if outcome is None:
            emit(Notice("info", "Nothing to compact yet: the conversation is too short to cut.", self.clock()))
            return ""
        self._replace_history(outcome.messages)
        self.publish(HistoryCompacted(outcome.summary, outcome.kept_count, list(outcome.messages), self.clock()))
        for usage in spent:
            self._account(usage, turn, "compaction", bill)
        after = self.context_tokens()
        emit(
            Notice(
                "info", f"Compacted: {before:,} → {after:,} tokens (saved {max(0, before - after):,}).", self.clock()
            )
        )
        return outcome.summary
