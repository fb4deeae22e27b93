"""The request budget: every request fits the context window, however small the window and long the turn.

Three rules, cheapest first:

1. ``reply_tokens``: ``max_tokens`` never exceeds what the window has left after the prompt, and never more
   than a quarter of the window (a 4,096-token server asked for 32,000 tokens of reply is asked for the
   impossible, and a reply that fills the window leaves no room for the next step).
2. ``cap_results``: one tool result never takes more than a share of the window; the middle is cut with a
   marker that says how to read further.
3. ``clear_old_results``: before anything is summarised, the outputs of older tool calls are replaced by a
   short marker. The calls and their result parts stay, so every call keeps its result and the history stays
   valid for both APIs; the model can call the tool again if it needs the output.

Summarising (``compaction.py``) comes after these, and only when they were not enough. Nothing here touches
the session journal: the history before a change stays in the file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from tunacode_tui.core.messages import Message, ToolResultPart
from tunacode_tui.providers import tokens

# A reply may take at most this share of the window.
REPLY_SHARE = 0.25
# Never ask for fewer tokens than this while the window allows it.
MIN_REPLY = 256
# One tool result may take at most this share of the window; one batch of results at most BATCH_SHARE.
RESULT_SHARE = 0.25
BATCH_SHARE = 0.5
# Results smaller than this are not worth clearing.
MIN_CLEARABLE_TOKENS = 64
CLEARED_PREFIX = "[output cleared to save context"


def safety_margin(window: int) -> int:
    """Tokens kept free for what local counting misses (a server's tokenizer and chat template differ)."""
    return max(64, window // 25)


def reply_tokens(*, window: int, prompt_tokens: int, wanted: int) -> int:
    """``max_tokens`` for the next request: ``wanted`` bounded by the window's share and by what is left."""
    room = window - prompt_tokens - safety_margin(window)
    budget = min(wanted, max(MIN_REPLY, int(window * REPLY_SHARE)), room)
    return max(16, budget)


def needs_room(*, window: int, used: int, threshold: float, wanted: int) -> bool:
    """Over the auto-compaction threshold, or too full to leave a useful reply."""
    reserve = min(wanted, max(MIN_REPLY, window // 8))
    return used > threshold * window or used + reserve + safety_margin(window) > window


def truncate_output(content: str, max_tokens: int) -> str:
    """``content`` cut to about ``max_tokens`` (head and tail kept), with a marker that says how to read on."""
    if len(content) <= max_tokens:  # a token is at least one character: no need to count
        return content
    total = tokens.count_tokens(content)
    if total <= max_tokens:
        return content
    keep = max(200, int(len(content) * max_tokens / total * 0.9))
    head = content[: keep * 3 // 4]
    tail = content[len(content) - keep // 4:]
    omitted = len(content) - len(head) - len(tail)
    marker = (
        f"\n\n[… {omitted:,} of {len(content):,} characters cut here to fit the context window. To read the rest, "
        "call the tool again for a narrower part: read_file with offset and limit, grep with a tighter pattern or "
        "path, bash piped through head, tail or sed -n.]\n\n"
    )
    return head + marker + tail


def cap_results(results: list[ToolResultPart], window: int) -> tuple[list[ToolResultPart], int]:
    """Each result cut to its share of the window. Returns the results and how many were cut."""
    if not results:
        return results, 0
    share = max(MIN_REPLY, min(int(window * RESULT_SHARE), int(window * BATCH_SHARE) // len(results)))
    out: list[ToolResultPart] = []
    cut = 0
    for result in results:
        content = truncate_output(result.content, share)
        if content is not result.content:
            cut += 1
            result = replace(result, content=content)
        out.append(result)
    return out, cut


def cleared_marker(content: str) -> str:
    return (f"{CLEARED_PREFIX} ({len(content):,} characters); call the tool again if needed]")


def clear_old_results(
    messages: list[Message], *, enough: Callable[[list[Message]], bool]
) -> tuple[list[Message], list[str]]:
    """Replace tool outputs, oldest first, by a marker until ``enough(history)`` says the history fits.

    Results the model has not answered yet (no assistant message after them) are kept. Returns the new history
    (the old one is not modified) and the ids of the calls whose output was cleared.
    """
    last_answer = max((i for i, m in enumerate(messages) if m.role == "assistant"), default=-1)
    tool_indexes = [i for i, m in enumerate(messages) if m.role == "tool"]
    keep = {i for i in tool_indexes if i > last_answer}
    history = list(messages)
    cleared: list[str] = []
    for index in tool_indexes:
        if index in keep:
            continue
        if enough(history):
            break
        message = history[index]
        parts = []
        changed = False
        for part in message.parts:
            if (isinstance(part, ToolResultPart) and not part.content.startswith(CLEARED_PREFIX)
                    and tokens.count_tokens(part.content) >= MIN_CLEARABLE_TOKENS):
                part = replace(part, content=cleared_marker(part.content))
                cleared.append(part.tool_call_id)
                changed = True
            parts.append(part)
        if changed:
            history[index] = Message(message.role, parts)
    return history, cleared


def shrink_latest_results(messages: list[Message], max_tokens: int) -> tuple[list[Message], int]:
    """Last resort when even the newest results do not fit: cut each to ``max_tokens``."""
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if message.role != "tool":
            continue
        parts = []
        cut = 0
        for part in message.parts:
            if isinstance(part, ToolResultPart):
                content = truncate_output(part.content, max_tokens)
                if content is not part.content:
                    cut += 1
                    part = replace(part, content=content)
            parts.append(part)
        if not cut:
            return messages, 0
        history = list(messages)
        history[index] = Message(message.role, parts)
        return history, cut
    return messages, 0
