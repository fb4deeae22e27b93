"""One turn's bookkeeping, and the step of it that needs nothing of the agent: streaming a response.

``Agent.run_turn`` (``agent/loop.py``) drives a turn as named steps: the next request, stream the response,
settle it, and repair after a cancel. What those steps share lives in ``TurnProgress`` instead of a dozen
locals, so each step is a short function and the driver reads as the loop it is.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from tunacode_tui.agent.executor import CANCELLED_RESULT, ResponseExecutor, call_signature
from tunacode_tui.core.events import AgentEvent, BatchFinished, Notice, TextDelta, ThinkingDelta, TurnEnded
from tunacode_tui.core.messages import Message, TextPart, ToolCallPart, ToolResultPart, Usage
from tunacode_tui.core.stream import StreamEnded, TextChunk, ThinkingChunk, ToolCallReady
from tunacode_tui.providers.base import ChatRequest, Provider
from tunacode_tui.providers.errors import StreamInterrupted
from tunacode_tui.providers.retry import stream_with_retry

LOOP_GUARD_PREFIX = "Stopped by the loop guard:"
CANCELLED_SUFFIX = "\n\n[cancelled by the user]"

EndReason = Literal["completed", "max_iterations", "cancelled", "error", "loop_guard"]


def sentence(text: str) -> str:
    """``text`` as a sentence, so a notice can append another one after it."""
    text = text.strip()
    return text if text.endswith((".", "!", "?", ")")) else text + "."


@dataclass(slots=True)
class TurnProgress:
    """What one turn has accumulated so far; the steps of ``run_turn`` read and update it."""

    iteration: int = 0
    text_out: str = ""  # the last non-empty assistant text: the turn's answer
    usage: Usage = field(default_factory=Usage)
    cost: float | None = 0.0  # None once one request's cost is unknown
    batches: list[BatchFinished] = field(default_factory=list)
    recent_calls: list[set[str]] = field(default_factory=list)  # call signatures, one set per response
    guard_hits: int = 0
    overflow_retried: bool = False
    # The response in flight: its executor (None between responses) and the text streamed so far.
    executor: ResponseExecutor | None = None
    streamed: list[str] = field(default_factory=list)
    in_stream: bool = False  # a response is streaming and is not in the history yet
    thought: bool = False  # the response in flight streamed thinking (whose signature a cut cannot keep)

    def add_usage(self, usage: Usage, cost: float | None) -> None:
        self.usage = self.usage + usage
        self.cost = None if cost is None or self.cost is None else self.cost + cost

    def ended(self, reason: EndReason, error: str | None, now: float) -> TurnEnded:
        return TurnEnded(self.text_out, self.iteration, self.usage, self.cost, reason, error, self.batches, now)

    def loop_guard(self, call: ToolCallPart, repeats: int) -> str | None:
        """Refuse, before it runs, a call identical to one made in each of the last ``repeats - 1`` responses."""
        previous = repeats - 1
        recent = self.recent_calls[-previous:] if previous > 0 else []
        if previous <= 0 or len(recent) < previous or not all(call_signature(call) in s for s in recent):
            return None
        return (
            f"{LOOP_GUARD_PREFIX} you made this exact call {previous + 1} times in a row. Do not repeat it; "
            "use the earlier result or try something else."
        )

    def partial_answer(
        self, calls: list[ToolCallPart] | None = None, results: list[ToolResultPart] | None = None
    ) -> Message | None:
        """A response cut short by a cancel: its text, marked as such, and the calls it had finished asking
        for (their results follow). None when nothing was streamed.

        When the response streamed thinking, its calls and ``results`` are folded into the text instead:
        with thinking on, Anthropic requires a tool-use message to start with its signed thinking block,
        which a cut response never received, so a replayed call would make the next request fail."""
        parts: list[TextPart | ToolCallPart] = []
        text = "".join(self.streamed)
        if self.thought and calls:
            by_id = {r.tool_call_id: r for r in results or []}
            lines = [f"{c.name}({c.raw_arguments or c.arguments}): "
                     f"{by_id[c.id].content if c.id in by_id else CANCELLED_RESULT}" for c in calls]
            text += "\n\n[tools run before the cancel]\n" + "\n\n".join(lines)
            calls = []
        if text:
            parts.append(TextPart(text + CANCELLED_SUFFIX))
        parts.extend(calls or [])
        return Message("assistant", list(parts)) if parts else None


async def stream_response(
    provider: Provider,
    request: ChatRequest,
    turn: TurnProgress,
    *,
    emit: Callable[[AgentEvent], None],
    clock: Callable[[], float],
    max_total_seconds: float,
    max_attempts: int,
) -> StreamEnded:
    """Stream one response into ``turn.executor``: text is shown as it comes, tool calls start as soon as they
    are ready. On any failure the calls already started are cancelled and the executor is dropped, so the
    caller sees no half-run response; after a cancel it is kept (stopped), so the turn can keep what the
    response said and the calls that ran."""
    executor = turn.executor
    assert executor is not None, "stream_response needs the response's executor"
    turn.streamed = []
    turn.in_stream = True
    turn.thought = False
    ended: StreamEnded | None = None
    try:
        async for event in stream_with_retry(
            lambda: provider.stream(request),
            on_retry=lambda err, delay, attempt: emit(
                Notice("warning", f"{sentence(str(err))} Retrying in {delay:.1f}s (attempt {attempt + 1}).", clock())
            ),
            max_total_seconds=max_total_seconds,
            max_attempts=max_attempts,
        ):
            match event:
                case TextChunk(text=text):
                    turn.streamed.append(text)
                    emit(TextDelta(text, clock()))
                case ThinkingChunk(text=text):
                    turn.thought = True
                    emit(ThinkingDelta(text, clock()))
                case ToolCallReady(call=call):
                    executor.submit(call)
                case StreamEnded():
                    ended = event
    except asyncio.CancelledError:
        await executor.cancel()
        raise
    except BaseException:
        await executor.cancel()
        turn.executor = None
        turn.in_stream = False
        raise
    if ended is None:
        await executor.cancel()
        raise StreamInterrupted("The model's response ended without a final event.")
    return ended


def dangling_results(last: Message | None, results: list[ToolResultPart]) -> Message | None:
    """The tool message that gives every call of ``last`` (an assistant message) a result, using ``results``
    where they exist and "cancelled" elsewhere, so the history stays valid. None when nothing dangles."""
    if last is None or last.role != "assistant" or not last.tool_calls:
        return None
    by_id = {r.tool_call_id: r for r in results}
    parts = [by_id.get(c.id) or ToolResultPart(c.id, c.name, CANCELLED_RESULT, is_error=True) for c in last.tool_calls]
    return Message("tool", list(parts))
