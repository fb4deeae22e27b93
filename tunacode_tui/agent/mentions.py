"""``@path`` in a prompt attaches that file's content to the message, as Claude Code does.

The model gets the prompt as typed, then each mentioned file in an ``<attached_file>`` block, so it need not
spend a round trip on ``read_file``. Paths are confined exactly like the tools' (``tools/paths.py``): inside
the project or a folder the user allowed, symlinks resolved first. Each file is capped, and so is the total,
so one ``@`` cannot fill the context window; what was cut is said in the block and in the chip the UI shows.
A mention that is not a readable file (``@someone``, a folder) is left as plain text.
"""

from __future__ import annotations

import re
from pathlib import Path

from tunacode_tui.core.events import AttachedFile
from tunacode_tui.core.messages import Message, Part, TextPart
from tunacode_tui.tools.base import ToolContext, ToolError
from tunacode_tui.tools.paths import display_path, resolve_path

MAX_FILE_CHARS = 50_000
MAX_TOTAL_CHARS = 150_000
# ``@`` at the start or after whitespace or an opening bracket/quote; the path runs to whitespace.
_MENTION = re.compile(r"(?:^|(?<=[\s(\[{\"'`]))@(?P<path>[^\s@`\"']+)")
_TRAILING = ".,;:!?)]}"


def find_mentions(prompt: str) -> list[str]:
    """The paths mentioned with ``@``, in order, without repeats; trailing punctuation is not part of one."""
    seen: list[str] = []
    for match in _MENTION.finditer(prompt):
        path = match.group("path").rstrip(_TRAILING)
        if path and path not in seen:
            seen.append(path)
    return seen


def attach_mentions(prompt: str, ctx: ToolContext) -> tuple[Message, list[AttachedFile]]:
    """The user message for ``prompt``: its text first (what the chat shows), then one part with the
    attached files; and what was attached, for the chips."""
    attached: list[AttachedFile] = []
    blocks: list[str] = []
    budget = MAX_TOTAL_CHARS
    for mention in find_mentions(prompt):
        try:
            path = resolve_path(ctx, mention, for_write=False)
        except ToolError as exc:
            # Say so when it names a real file (or clearly a path) the tools may not read; stay quiet for @alice.
            given = Path(mention).expanduser()
            if given.is_absolute() or ".." in given.parts or (ctx.root / given).exists():
                reason = "outside the project (the tools may not read it)" if "Access denied" in str(exc) else str(exc)
                attached.append(AttachedFile(mention, 0, 0, error=reason))
            continue
        if not path.is_file():
            continue  # @someone, a folder: plain text
        shown = display_path(ctx, path)
        limit = min(MAX_FILE_CHARS, budget)
        try:
            size = path.stat().st_size
            if limit <= 0:
                attached.append(AttachedFile(shown, size, 0, error="over the attachment budget, not attached"))
                continue
            # At most what ``limit`` characters can take in UTF-8 (4 bytes each), plus one more character to
            # know there is more: a 500 MB log costs 200 KB, not 500 MB read on the event loop.
            with path.open("rb") as fh:
                raw = fh.read(limit * 4 + 4)
        except OSError as exc:
            attached.append(AttachedFile(shown, 0, 0, error=f"cannot be read ({exc.strerror or exc})"))
            continue
        if b"\x00" in raw[:8192]:
            attached.append(AttachedFile(shown, size, 0, error="binary file, not attached"))
            continue
        whole = len(raw) >= size  # read to the end (a file that grew meanwhile counts as cut)
        text = raw.decode("utf-8", errors="replace")
        kept = text[:limit]
        truncated = len(kept) < len(text) or not whole
        budget -= len(kept)
        total = f"{len(text):,} characters" if whole else f"a {size:,}-byte file"
        note = (f' truncated="first {len(kept):,} of {total}; use read_file for the rest"'
                if truncated else "")
        blocks.append(f'<attached_file path="{shown}"{note}>\n{kept}\n</attached_file>')
        attached.append(AttachedFile(shown, size, len(kept), truncated=truncated))
    parts: list[Part] = [TextPart(prompt)]
    if blocks:
        parts.append(TextPart("\n\n" + "\n\n".join(blocks)))
    return Message("user", parts), attached
