"""Compaction: the model summarises the conversation; the history becomes summary + the last turns.

Turns are cut only at user prompts, so a tool call and its result always stay together. The full
pre-compaction history stays in the session journal: compaction never destroys data.
"""

from __future__ import annotations

from tunacode_tui.providers.base import ChatRequest, Provider
from tunacode_tui.providers.messages import Message, TextPart
from tunacode_tui.providers.retry import stream_with_retry
from tunacode_tui.providers.stream import StreamEnded, TextChunk
from tunacode_tui.session.accounting import message_text

KEEP_TURNS = 2
SUMMARY_PREFIX = "[Summary of the earlier conversation, written when it was compacted]\n\n"

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


def split_for_compaction(messages: list[Message], keep_turns: int = KEEP_TURNS) -> tuple[list[Message], list[Message]]:
    starts = turn_starts(messages)
    if len(starts) <= keep_turns:
        # Too few turns to keep some verbatim: summarise everything before the last prompt.
        cut = starts[-1] if starts else len(messages)
    else:
        cut = starts[-keep_turns]
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


async def compact_history(
    *,
    provider: Provider,
    model: str,
    system: str,
    messages: list[Message],
    focus: str = "",
    keep_turns: int = KEEP_TURNS,
) -> tuple[str, list[Message]]:
    old, recent = split_for_compaction(messages, keep_turns)
    if not old:
        return "", list(messages)
    focus_line = f"Pay special attention to: {focus}" if focus else ""
    request = ChatRequest(
        model=model,
        system=system,
        messages=[Message.user(transcript(old) + "\n\n---\n" + SUMMARY_INSTRUCTIONS.format(focus=focus_line))],
        tools=[],
        max_tokens=4096,
    )
    chunks: list[str] = []
    final = ""
    async for event in stream_with_retry(lambda: provider.stream(request)):
        if isinstance(event, TextChunk):
            chunks.append(event.text)
        elif isinstance(event, StreamEnded):
            final = event.message.text
    summary = (final or "".join(chunks)).strip() or "(the model returned an empty summary)"
    head = [
        Message("user", [TextPart(SUMMARY_PREFIX + summary)]),
        Message("assistant", [TextPart("Understood. I have the summary and will continue from it.")]),
    ]
    return summary, head + list(recent)
