"""Export a conversation as Markdown, to read, share or paste into an issue.

Tool arguments and results are fenced so they render verbatim; long results are shortened (the journal
keeps the full text) and secrets are masked, since an export is meant to leave the machine.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from pathlib import Path

from tunacode_tui.core.messages import Message, TextPart, ThinkingPart, ToolCallPart, ToolResultPart
from tunacode_tui.core.state import SessionState
from tunacode_tui.session.redact import mask_secrets
from tunacode_tui.session.store import LoadedSession

RESULT_CHARS = 4_000


def fence(body: str, info: str = "") -> str:
    """A code fence longer than any backtick run inside ``body``, so the content cannot close it early."""
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{info}\n{body.rstrip()}\n{ticks}"


def _shorten(text: str) -> str:
    if len(text) <= RESULT_CHARS:
        return text
    return text[:RESULT_CHARS] + f"\n[… {len(text) - RESULT_CHARS:,} more characters not shown]"


def _message_markdown(message: Message) -> list[str]:
    blocks: list[str] = []
    if message.role == "tool" or (message.role == "user" and message.tool_results):
        pass  # results are rendered under their own headings below
    elif message.role == "user":
        blocks.append("## User")
    elif message.role == "assistant":
        blocks.append("## Assistant")
    else:
        blocks.append("## System")
    for part in message.parts:
        if isinstance(part, TextPart):
            if part.text.strip():
                blocks.append(part.text.strip())
        elif isinstance(part, ThinkingPart):
            if part.text.strip():
                quoted = "\n".join(f"> {line}" if line else ">" for line in part.text.strip().splitlines())
                blocks.append(f"> *Thinking*\n>\n{quoted}")
        elif isinstance(part, ToolCallPart):
            # A malformed call is shown as the model sent it: the decoded arguments would be an empty object.
            if part.parse_error:
                args = part.raw_arguments
            else:
                args = json.dumps(part.arguments, indent=2, ensure_ascii=False)
            blocks.append(f"**Tool call** `{part.name}` (`{part.id}`)\n\n" + fence(args, "json"))
        elif isinstance(part, ToolResultPart):
            label = "Tool error" if part.is_error else "Tool result"
            blocks.append(f"**{label}** `{part.name}` (`{part.tool_call_id}`)\n\n" + fence(_shorten(part.content)))
    return blocks


def conversation_markdown(
    source: SessionState | LoadedSession, *, secrets: Iterable[str] = (), title: str | None = None
) -> str:
    """The Markdown text of the live history of ``source``."""
    state = source.state if isinstance(source, LoadedSession) else source
    lines: list[str] = []
    if isinstance(source, LoadedSession):
        lines.append(f"# {title or 'tunacode session ' + source.id}")
        meta = [f"- Project: `{source.root}`", f"- Model: `{source.model}`"]
        if source.created:
            meta.append(f"- Started: {source.created}")
        lines.append("\n".join(meta))
    else:
        lines.append(f"# {title or 'tunacode conversation'}")
    for message in state.messages:
        lines.extend(_message_markdown(message))
    return mask_secrets("\n\n".join(lines) + "\n", secrets)


def export_markdown(
    source: SessionState | LoadedSession,
    path: Path | str,
    *,
    secrets: Iterable[str] = (),
    title: str | None = None,
) -> Path:
    """Write the conversation to ``path`` as Markdown; returns the path written."""
    target = Path(path).expanduser()
    target.parent.mkdir(parents=True, exist_ok=True)
    text = conversation_markdown(source, secrets=secrets, title=title)
    # A conversation holds code, paths and tool output: private like the session file it comes from.
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # also when the file existed with a wider mode
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    return target
