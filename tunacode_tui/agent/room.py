"""Making room in the context window before a request, or after a server refused one as too large.

The order is the cheapest loss first (see ``budget.py``): clear the outputs of older tool calls, then summarise
the older turns (or, if no summary can be written, drop them with a note), and as a last resort cut the newest
tool results. Each step that changes the history goes through ``Agent.rewrite_history`` (a ``HistoryCompacted``
event, so the session journal records the new history after the old one) and is reported as ``ContextTrimmed``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from tunacode_tui.agent.accounting import ContextMeter
from tunacode_tui.agent.budget import (
    clear_old_results,
    needs_room,
    shrink_latest_results,
)
from tunacode_tui.agent.compaction import KEEP_TURNS, Compacted
from tunacode_tui.config.settings import Config
from tunacode_tui.core.events import AgentEvent, ContextTrimmed, Notice
from tunacode_tui.core.messages import Message, ToolSpec
from tunacode_tui.core.state import SessionState
from tunacode_tui.providers.catalog import ModelInfo
from tunacode_tui.providers.errors import ProviderError


class Agent(Protocol):
    """What making room needs of the agent (``agent/loop.py``), without importing it (no import circle)."""

    system_prompt: str
    meter: ContextMeter
    state: SessionState
    config: Config
    clock: Callable[[], float]

    @property
    def model_info(self) -> ModelInfo: ...

    def wanted_reply_tokens(self) -> int: ...

    def context_tokens(self) -> int: ...

    def tool_specs(self) -> list[ToolSpec]: ...

    def rewrite_history(self, outcome: Compacted) -> None: ...

    async def compact(self, focus: str = "", *, automatic: bool = False, keep_turns: int | None = None) -> str: ...

# After making room the history should fill at most this share of the auto-compaction threshold, so the next
# steps of the turn do not trigger it again at once.
GOAL_SHARE = 0.7


async def make_room(agent: Agent, emit: Callable[[AgentEvent], None], *, forced: bool = False) -> None:
    """Shrink the history until the next request fits; ``forced`` after a refusal (the estimate was wrong)."""
    window = agent.model_info.context_window
    threshold = agent.config.settings.auto_compact_threshold
    wanted = agent.wanted_reply_tokens()
    used = agent.context_tokens()
    if not window or (not forced and not needs_room(window=window, used=used, threshold=threshold, wanted=wanted)):
        return
    system, specs, meter = agent.system_prompt, agent.tool_specs(), agent.meter
    # Reported usage is the truth; make the local counts of candidate histories agree with it.
    meter.match_report(system, specs, agent.state.messages)
    goal = threshold * window * GOAL_SHARE

    def estimate(history: list[Message]) -> int:
        return meter.local_estimate(system, specs, history)

    def fits(history: list[Message]) -> bool:
        # After a refusal the server's word beats our estimate: clear every older output.
        return not forced and estimate(history) <= goal

    def still_short(history: list[Message]) -> bool:
        size = estimate(history)
        return needs_room(window=window, used=size, threshold=threshold, wanted=wanted) or (forced and size > goal)

    history, cleared = clear_old_results(agent.state.messages, enough=fits)
    if cleared:
        before = used
        agent.rewrite_history(Compacted("", history, kept_count=len(history)))
        _report(agent, emit, ContextTrimmed("cleared", len(cleared), before, estimate(history), agent.clock()))
    if not forced and not still_short(agent.state.messages):
        return

    if not forced:
        now = estimate(agent.state.messages)
        emit(Notice("warning", f"Context at {now:,}/{window:,} tokens (over {threshold:.0%}): compacting "
                    "automatically.", agent.clock()))
    summarised = await _summarise(agent, emit, estimate)
    if summarised and still_short(agent.state.messages):
        # The two turns kept verbatim are themselves too large for this window: keep only the current one,
        # when that would be enough (a second summary costs a request; one that cannot help is not asked for).
        from tunacode_tui.agent.compaction import split_for_compaction

        old, recent = split_for_compaction(agent.state.messages, 1)
        if old and not still_short(recent):
            await _summarise(agent, emit, estimate, keep_turns=1)
    if not still_short(agent.state.messages) and (cleared or summarised or not forced):
        return

    # Nothing older is left to give up: cut the newest results to what the window can take.
    before = estimate(agent.state.messages)
    others = estimate([m for m in agent.state.messages if m.role != "tool"])
    per_result = max(128, (int(goal) - others) // max(1, _result_count(agent.state.messages[-1])))
    history, cut = shrink_latest_results(agent.state.messages, per_result)
    if cut:
        agent.rewrite_history(Compacted("", history, kept_count=len(history)))
        _report(agent, emit, ContextTrimmed("truncated", cut, before, estimate(history), agent.clock()))


async def _summarise(agent: Agent, emit: Callable[[AgentEvent], None],
                     estimate: Callable[[list[Message]], int], *, keep_turns: int = KEEP_TURNS) -> bool:
    """Summarise the older turns (or drop them if that fails); whether the history changed."""
    from tunacode_tui.agent.compaction import drop_old_turns, split_for_compaction

    old = split_for_compaction(agent.state.messages, keep_turns)[0]
    if not old or all(_is_summary(m) or (m.role == "assistant" and not m.tool_calls and len(m.text) < 80)
                      for m in old):
        return False  # only an earlier summary would be cut: summarising it again saves nothing
    before = estimate(agent.state.messages)
    try:
        summary = await agent.compact(automatic=True, keep_turns=keep_turns)
    except ProviderError as exc:
        emit(Notice("warning", f"Automatic compaction failed ({exc}); removing the oldest turns instead.",
                    agent.clock()))
        summary = ""
        dropped = drop_old_turns(agent.state.messages, keep_turns)
        if dropped is not None:
            removed = len(agent.state.messages) - dropped.kept_count
            agent.rewrite_history(dropped)
            _report(agent, emit, ContextTrimmed("dropped", removed, before, estimate(dropped.messages),
                                                agent.clock()))
            return True
        return False
    if summary:
        _report(agent, emit, ContextTrimmed("compacted", 1, before, estimate(agent.state.messages), agent.clock()))
    return bool(summary)


def _is_summary(message: Message) -> bool:
    from tunacode_tui.agent.compaction import DROPPED_PREFIX, SUMMARY_PREFIX

    return message.role == "user" and message.text.startswith((SUMMARY_PREFIX, DROPPED_PREFIX))


def _result_count(message: Message) -> int:
    return len(message.tool_results) if message.role == "tool" else 1


def _report(agent: Agent, emit: Callable[[AgentEvent], None], event: ContextTrimmed) -> None:
    emit(event)
    emit(Notice("info", event.text, agent.clock()))
