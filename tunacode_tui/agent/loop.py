"""The agent loop: send history and tool schemas, stream the answer, run the tools, repeat.

Hand-written and provider-agnostic: it talks to a ``Provider`` (neutral events in, neutral messages
out) and reports facts to an event sink. It never imports Textual.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from tunacode_tui.agent.accounting import ContextMeter
from tunacode_tui.agent.checkpoints import Checkpoints, UndoReport
from tunacode_tui.agent.executor import CANCELLED_RESULT, AsyncioSpawner, ResponseExecutor, Spawner, call_signature
from tunacode_tui.agent.prompt import build_system_prompt
from tunacode_tui.config.settings import Config
from tunacode_tui.core.events import (
    AgentEvent,
    AssistantMessageAdded,
    BatchFinished,
    EventSink,
    HistoryCleared,
    HistoryCompacted,
    MessageAppended,
    ModelChanged,
    Notice,
    PermissionDecision,
    PermissionRequested,
    RequestStarted,
    TextDelta,
    ThinkingDelta,
    TurnEnded,
    TurnStarted,
    UsageUpdated,
)
from tunacode_tui.core.messages import Message, TextPart, ToolCallPart, ToolResultPart, Usage
from tunacode_tui.core.state import SessionState
from tunacode_tui.core.stream import (
    StreamEnded,
    TextChunk,
    ThinkingChunk,
    ToolCallReady,
)
from tunacode_tui.providers import catalog
from tunacode_tui.providers.base import ChatRequest, ModelRef, Provider
from tunacode_tui.providers.errors import ConfigurationError, ContextOverflow, ProviderError, StreamInterrupted
from tunacode_tui.providers.retry import stream_with_retry
from tunacode_tui.tools.base import Tool, ToolContext

log = logging.getLogger("tunacode.agent")

LOOP_GUARD_PREFIX = "Stopped by the loop guard:"


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?", ")")) else text + "."


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
        self._turn_usage = Usage()
        self._turn_cost: float | None = 0.0
        self._turn_running = False
        self._reported_windows: dict[str, int | None] = {}
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

    def _specs(self) -> list:
        return [tool.spec() for tool in self.tools.values()]

    # -- events -----------------------------------------------------------------------------------
    def subscribe(self, listener: EventSink) -> None:
        """Hear every event from now on, including history changes made outside a turn."""
        self._listeners.append(listener)

    def publish(self, event: AgentEvent) -> None:
        """Tell the listeners, then the running turn's sink (or the last one, between turns)."""
        for listener in self._listeners:
            listener(event)
        self._emit(event)

    def _with_listeners(self, sink: Callable[[AgentEvent], None]) -> Callable[[AgentEvent], None]:
        def both(event: AgentEvent) -> None:
            for listener in self._listeners:
                listener(event)
            sink(event)

        return both

    def _append(self, message: Message) -> None:
        self.state.messages.append(message)
        self.publish(MessageAppended(message, self.clock()))

    def _replace_history(self, messages: list[Message]) -> None:
        self.state.messages[:] = messages
        self.meter.invalidate(self.state.messages)

    # -- permission -------------------------------------------------------------------------------
    async def _permission(self, call: ToolCallPart, tool: Tool) -> PermissionDecision:
        if self.state.yolo or call.name in self.state.allowed_tools:
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
            self.state.allowed_tools.add(call.name)
        return decision

    # -- the loop ---------------------------------------------------------------------------------
    async def run_turn(self, prompt: str, emit: Callable[[AgentEvent], None]) -> TurnEnded:
        self._emit = emit
        emit = self.publish
        emit(TurnStarted(prompt, self.clock()))
        self.checkpoints.begin_turn()
        self._append(Message.user(prompt))
        self._turn_usage = Usage()
        self._turn_cost = 0.0
        self._turn_running = True
        batches: list[BatchFinished] = []
        text_out = ""
        self._recent_calls: list[set[str]] = []
        guard_hits = 0
        iteration = 0
        executor: ResponseExecutor | None = None
        streamed: list[str] = []
        in_stream = False  # a response is streaming and its message is not in the history yet
        overflow_retried = False

        def end(
            reason: Literal["completed", "max_iterations", "cancelled", "error", "loop_guard"], error: str | None = None
        ) -> TurnEnded:
            self._turn_running = False
            event = TurnEnded(
                text_out, iteration, self._turn_usage, self._turn_cost, reason, error, batches, self.clock()
            )
            emit(event)
            return event

        try:
            while True:
                if iteration >= self.state.max_iterations:
                    emit(
                        Notice(
                            "warning",
                            f"Stopped after {iteration} iterations (the limit). "
                            "Raise it with /iterations N and ask the model to continue.",
                            self.clock(),
                        )
                    )
                    return end("max_iterations")
                iteration += 1
                await self._discover_window()
                await self._maybe_auto_compact(emit)
                info = self.model_info
                request = ChatRequest(
                    model=self.model.model,
                    system=self.system_prompt,
                    messages=list(self.state.messages),
                    tools=self._specs(),
                    max_tokens=self.config.settings.max_response_tokens or min(info.max_output, 32_000),
                    stream=self.config.settings.enable_streaming,
                    reasoning=self.config.settings.reasoning,
                )
                emit(RequestStarted(iteration, self.model.full_name, self.clock()))
                executor = ResponseExecutor(
                    guard=self._loop_guard,
                    tools=self.tools,
                    ctx=self.ctx,
                    spawner=self.spawner,
                    emit=emit,
                    max_parallel=self.config.settings.max_parallel,
                    permission=self._permission,
                    next_batch_number=self.state.take_batch_number,
                    clock=self.clock,
                    early_start=self.config.settings.early_tool_start,
                )
                streamed = []
                in_stream = True
                ended: StreamEnded | None = None
                provider = self.provider
                try:
                    async for event in stream_with_retry(
                        lambda provider=provider, request=request: provider.stream(request),
                        on_retry=lambda err, delay, attempt: emit(
                            Notice(
                                "warning",
                                f"{_sentence(str(err))} Retrying in {delay:.1f}s (attempt {attempt + 1}).",
                                self.clock(),
                            )
                        ),
                        max_total_seconds=max(60.0, self.config.settings.request_timeout),
                        max_attempts=self.config.settings.max_retries + 1,
                    ):
                        if isinstance(event, TextChunk):
                            streamed.append(event.text)
                            emit(TextDelta(event.text, self.clock()))
                        elif isinstance(event, ThinkingChunk):
                            emit(ThinkingDelta(event.text, self.clock()))
                        elif isinstance(event, ToolCallReady):
                            executor.submit(event.call)
                        elif isinstance(event, StreamEnded):
                            ended = event
                except ContextOverflow as exc:
                    await executor.cancel()
                    executor = None
                    in_stream = False
                    if overflow_retried:
                        raise
                    overflow_retried = True
                    iteration -= 1
                    emit(Notice("warning", f"{exc} Compacting the conversation and retrying once.", self.clock()))
                    await self.compact(emit=emit)
                    continue
                except BaseException:
                    if executor is not None:  # kept: a cancel keeps the calls it had started (see below)
                        await executor.cancel()
                    raise
                if ended is None:
                    await executor.cancel()
                    raise StreamInterrupted("The model's response ended without a final event.")

                if ended.stop_reason == "max_tokens":
                    emit(
                        Notice(
                            "warning",
                            "The answer was cut off at the response token limit. Raise "
                            "settings.max_response_tokens, or ask the model to continue.",
                            self.clock(),
                        )
                    )
                message = ended.message
                # Calls that were never announced as ready (a provider that only reports them at the end).
                submitted = executor.submitted_ids
                for call in message.tool_calls:
                    if call.id not in submitted:
                        executor.submit(call)
                self._append(message)
                in_stream = False
                emit(AssistantMessageAdded(message, self.clock()))
                self._account(ended.usage, emit)
                if message.text:
                    text_out = message.text

                calls = message.tool_calls
                if not calls:
                    executor = None
                    if not message.text.strip() and not calls:
                        emit(Notice("warning", "The model sent an empty response.", self.clock()))
                    return end("completed")

                results = await executor.finish()
                self._record_batches(executor, batches)
                executor = None
                self._append(Message("tool", list(results)))
                self._recent_calls.append({call_signature(c) for c in calls})
                guarded = [r for r in results if r.content.startswith(LOOP_GUARD_PREFIX)]
                if guarded:
                    emit(
                        Notice(
                            "warning",
                            f"Loop guard: {guarded[0].name} was asked for again with the same "
                            "arguments; it was not run.",
                            self.clock(),
                        )
                    )
                    guard_hits += 1
                    if guard_hits > 1:  # warned once and still repeating: stop the turn
                        return end("loop_guard")
        except asyncio.CancelledError:
            calls = executor.submitted_calls if executor is not None and in_stream else []
            if executor is not None:
                await executor.cancel()
                self._record_batches(executor, batches)
            if in_stream:
                self._keep_partial("".join(streamed), calls)
            self._close_dangling(executor.results() if executor is not None else [])
            end("cancelled")
            raise
        except (ProviderError, ConfigurationError) as exc:
            self._close_dangling([])
            emit(Notice("error", str(exc), self.clock()))
            return end("error", str(exc))

    def _loop_guard(self, call: ToolCallPart) -> str | None:
        """Refuse, before it runs, a call identical to one made in each of the last N-1 responses."""
        previous = self.config.settings.loop_guard_repeats - 1
        recent = self._recent_calls[-previous:] if previous > 0 else []
        if previous <= 0 or len(recent) < previous or not all(call_signature(call) in s for s in recent):
            return None
        return (
            f"{LOOP_GUARD_PREFIX} you made this exact call {previous + 1} times in a row. Do not repeat it; "
            "use the earlier result or try something else."
        )

    def _record_batches(self, executor: ResponseExecutor, batches: list[BatchFinished]) -> None:
        batches.extend(executor.batches)
        self.state.batches.extend(executor.batches)
        self.state.calls.extend(executor.finished_calls)

    def _keep_partial(self, text: str, calls: list[ToolCallPart]) -> None:
        """A response cancelled mid-stream: what it said and the calls it had finished asking for join the
        history (their results follow through ``_close_dangling``), so the next request sees them."""
        parts: list[TextPart | ToolCallPart] = []
        if text.strip():
            parts.append(TextPart(text + "\n\n[cancelled by the user]"))
        parts.extend(calls)
        if parts:
            self._append(Message("assistant", list(parts)))

    def _close_dangling(self, results: list[ToolResultPart]) -> None:
        """Keep the history valid: every tool call in the last assistant message gets a result."""
        if not self.state.messages or self.state.messages[-1].role != "assistant":
            return
        calls = self.state.messages[-1].tool_calls
        if not calls:
            return
        by_id = {r.tool_call_id: r for r in results}
        parts = [by_id.get(c.id) or ToolResultPart(c.id, c.name, CANCELLED_RESULT, is_error=True) for c in calls]
        self._append(Message("tool", list(parts)))

    def _account(
        self, usage: Usage, emit: Callable[[AgentEvent], None], purpose: Literal["turn", "compaction"] = "turn"
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
        self._turn_usage = self._turn_usage + usage
        self._turn_cost = None if cost is None or self._turn_cost is None else self._turn_cost + cost
        emit(
            UsageUpdated(
                usage,
                cost,
                self._turn_usage,
                self._turn_cost,
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

    def undo(self) -> UndoReport:
        """``/undo``: restore the files the last turn changed (see ``agent/checkpoints.py``)."""
        return self.checkpoints.undo(self.ctx)

    # -- compaction -------------------------------------------------------------------------------
    async def _maybe_auto_compact(self, emit: Callable[[AgentEvent], None]) -> None:
        from tunacode_tui.agent.compaction import split_for_compaction

        window = self.model_info.context_window
        threshold = self.config.settings.auto_compact_threshold
        used = self.context_tokens()
        if not window or used <= threshold * window or not split_for_compaction(self.state.messages)[0]:
            return
        emit(
            Notice(
                "warning",
                f"Context at {used:,}/{window:,} tokens (over {threshold:.0%}): compacting automatically.",
                self.clock(),
            )
        )
        from tunacode_tui.agent.compaction import CompactionFailed

        try:
            await self.compact(emit=emit)
        except CompactionFailed as exc:
            emit(
                Notice(
                    "warning", f"Automatic compaction failed ({exc}); continuing with the full history.", self.clock()
                )
            )

    async def compact(self, focus: str = "", *, emit: Callable[[AgentEvent], None] | None = None) -> str:
        """Summarise and shorten the history. Returns the summary ("" when there was nothing to cut).
        Raises ``CompactionFailed`` (a ProviderError) when the summary is unusable; the history is kept."""
        from tunacode_tui.agent.compaction import compact_history

        caller = emit
        # The usage must reach the listeners (the journal) whichever sink the caller gave.
        emit = self.publish if caller is None or caller == self.publish else self._with_listeners(caller)
        if not self._turn_running:  # /compact between turns: the summary request is the latest thing paid for
            self._turn_usage, self._turn_cost = Usage(), 0.0
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
            )
        except BaseException:
            for usage in spent:  # a refused summary was still paid for
                self._account(usage, emit, "compaction")
            raise
        if outcome is None:
            emit(Notice("info", "Nothing to compact yet: the conversation is too short to cut.", self.clock()))
            return ""
        self._replace_history(outcome.messages)
        self.publish(HistoryCompacted(outcome.summary, outcome.kept_count, list(outcome.messages), self.clock()))
        for usage in spent:
            self._account(usage, emit, "compaction")
        after = self.context_tokens()
        emit(
            Notice(
                "info", f"Compacted: {before:,} → {after:,} tokens (saved {max(0, before - after):,}).", self.clock()
            )
        )
        return outcome.summary
