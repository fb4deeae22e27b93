"""The conversation as plain text, printed to the terminal's own scrollback when the app exits.

A full-screen app paints on the alternate screen, which vanishes on exit; printing the prompts, the answers and
a line per tool call afterwards leaves them where the terminal's search, scroll and copy work as usual.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from tunacode_tui.core.messages import TextPart, ToolCallPart
from tunacode_tui.core.state import SessionState
from tunacode_tui.session.redact import mask_secrets

ARGS_CHARS = 100


def scrollback_text(state: SessionState, *, secrets: Iterable[str] = (), session_id: str | None = None) -> str:
    """Prompts (``›``-prefixed), answers as their Markdown source, tool calls one line each; keys masked."""
    blocks: list[str] = []
    for message in state.messages:
        if message.role == "user" and not message.tool_results and message.text.strip():
            blocks.append("\n".join(f"› {line}" for line in message.text.strip().splitlines()))
        elif message.role == "assistant":
            for part in message.parts:
                if isinstance(part, TextPart) and part.text.strip():
                    blocks.append(part.text.strip())
                elif isinstance(part, ToolCallPart):
                    args = part.raw_arguments if part.parse_error else json.dumps(part.arguments, ensure_ascii=False)
                    if len(args) > ARGS_CHARS:
                        args = args[: ARGS_CHARS - 1] + "…"
                    blocks.append(f"  ⚙ {part.name} {args}")
    if not blocks:
        return ""
    resume = f" (tunacode --resume {session_id})" if session_id else ""
    text = "\n\n".join([f"─── tunacode conversation{resume} ───", *blocks, "─" * 40])
    return mask_secrets(text, secrets) + "\n"
