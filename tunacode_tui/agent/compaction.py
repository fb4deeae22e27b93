"""Compaction: the model summarises the conversation; the history becomes summary + the last turns.

Turns are cut only at user prompts, so a tool call and its result always stay together. The full
pre-compaction history stays in the session journal: compaction never destroys data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tunacode_tui.agent.accounting import message_text
from tunacode_tui.core.messages import Message, TextPart, Usage
from tunacode_tui.core.stream import StreamEnded, TextChunk
from tunacode_tui.providers import tokens
from tunacode_tui.providers.base import ChatRequest, Provider
from tunacode_tui.providers.errors import ProviderError
from tunacode_tui.providers.retry import stream_with_retry

KEEP_TURNS = 2
KEEP_STEPS = 3
SUMMARY_PREFIX = "[Summary of the earlier conversation, written when it was compacted]\n\n"
DROPPED_PREFIX = "[Earlier conversation removed to fit the context window"
# Characters per token assumed when sizing the transcript for a small window: low on purpose (code and
# non-English text take more tokens per character than prose).
_CHARS_PER_TOKEN = 3

SUMMARY_INSTRUCTIONS = """\
Summarise the conversation so far so that work can continue from the summary alone. Use these headings:
## Goal
## Decisions made
## Files touched (path: what changed or what was learned)
## Open tasks
## Important facts (commands, errors, names)
Be specific and complete; omit pleasantries. {focus}"""


def turn_starts(messages: list[Message]) -> list[int]:
    """Indexes of user prompts (not tool results): the only safe places to cut the history."""
    return [i for i, m in enumerate(messages) if m.role == "user" and not m.tool_results]


def split_for_compaction(
    messages: list[Message], keep_turns: int = KEEP_TURNS, keep_steps: int = KEEP_STEPS
) -> tuple[list[Message], list[Message]]:
    """Where to cut: before the last ``keep_turns`` prompts; with fewer prompts, before the last prompt;
    in one long turn, between its steps (an assistant message right after a complete set of tool
    results), keeping the last ``keep_steps``. Returns ``([], messages)`` when there is nothing to cut."""
    starts = turn_starts(messages)
    if len(starts) > keep_turns:
        cut = starts[-keep_turns]
    elif starts and starts[-1] > 0:
        cut = starts[-1]
    else:
        steps = [i for i in range(1, len(messages))
                 if messages[i].role == "assistant" and messages[i - 1].role == "tool"]
        cut = steps[-min(keep_steps, len(steps))] if steps else 0
    return messages[:cut], messages[cut:]


def transcript(messages: list[Message], limit: int = 400_000) -> str:
    lines = []
    for m in messages:
        body = message_text(m)
        if m.role == "tool" and len(body) > 4000:
            body = body[:2000] + "\n[... tool output shortened for the summary ...]\n" + body[-1000:]
        lines.append(f"### {m.role}\n{body}")
    text = "\n\n".join(lines)
    return text[-limit:]


@dataclass(slots=True, frozen=True)
class Compacted:
    """A compaction's outcome: the summary, the new history, and how many recent messages it kept verbatim."""

    summary: str
    messages: list[Message]
    kept_count: int


class CompactionFailed(ProviderError):
    """The summary came back empty or cut off: the history is kept as it was."""


async def compact_history(
    *,
    provider: Provider,
    model: str,
    system: str,
    messages: list[Message],
    focus: str = "",
    keep_turns: int = KEEP_TURNS,
    reasoning: str | None = None,
    window: int | None = None,
    accept_cut: bool = False,
    on_usage: Callable[[Usage], None] | None = None,
) -> Compacted | None:
    """The summary and the new history, or None when there is nothing to compact.

    ``window`` sizes the summary request so it fits the model's context itself (on a 4,096-token server the
    transcript of the old turns is larger than the window). ``accept_cut`` keeps a summary that hit the token
    limit, marked as cut, instead of failing: automatic compaction prefers a partial summary to none.
    ``on_usage`` hears the summary request's usage as soon as the provider reports it, before the summary
    is judged: a refused (empty or cut-off) summary was still paid for."""
    old, recent = split_for_compaction(messages, keep_turns)
    if not old:
        return None
    focus_line = f"Pay special attention to: {focus}" if focus else ""
    # Reasoning models spend part of this on thinking; a cut-off summary is refused below.
    max_tokens = 16_384 if reasoning else 8192
    limit = 400_000
    if window:
        max_tokens = min(max_tokens, max(256, window // 16))
        room = window - max_tokens - tokens.count_tokens(system + SUMMARY_INSTRUCTIONS) - max(64, window // 25)
        limit = max(1000, room * _CHARS_PER_TOKEN)
    prompt = transcript(old, limit) + "\n\n---\n" + SUMMARY_INSTRUCTIONS.format(focus=focus_line)
    request = ChatRequest(
        model=model,
        system=system,
        messages=[Message.user(prompt)],
        tools=[],
        max_tokens=max_tokens,
        reasoning=reasoning,
    )
    chunks: list[str] = []
    final = ""
    stop = ""
    async for event in stream_with_retry(lambda: provider.stream(request)):
        if isinstance(event, TextChunk):
            chunks.append(event.text)
        elif isinstance(event, StreamEnded):
            final, stop = event.message.text, event.stop_reason
            if on_usage is not None:
                on_usage(event.usage)
    summary = (final or "".join(chunks)).strip()
    if not summary:
        raise CompactionFailed("the model returned an empty summary")
    if stop == "max_tokens":
        if not accept_cut:
            raise CompactionFailed("the summary was cut off at the token limit; try /compact with a narrower "
                                   "focus")
        summary += "\n\n[summary cut off at the token limit]"
    head = [Message("user", [TextPart(SUMMARY_PREFIX + summary)])]
    if recent and recent[0].role == "user":  # keep user/assistant alternation
        head.append(Message("assistant", [TextPart("Understood. I have the summary and will continue from it.")]))
    return Compacted(summary, head + list(recent), kept_count=len(recent))


def drop_old_turns(messages: list[Message], keep_turns: int = KEEP_TURNS) -> Compacted | None:
    """The history without its old turns and with a note saying so, when no summary could be written.

    The fallback of automatic compaction: the session file keeps everything that is dropped here.
    """
    old, recent = split_for_compaction(messages, keep_turns)
    if not old:
        return None
    head = [Message("user", [TextPart(f"{DROPPED_PREFIX}: {len(old)} messages; the session file keeps them. "
                                      "Ask the user if something from before is needed.]")])]
    if recent and recent[0].role == "user":
        head.append(Message("assistant", [TextPart("Understood.")]))
    return Compacted("", head + list(recent), kept_count=len(recent))
