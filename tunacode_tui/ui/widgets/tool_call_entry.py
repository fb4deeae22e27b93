"""One tool call in the chat: a single summary line that expands to show the result."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.content import Content
from textual.widgets import Collapsible, Static

from tunacode_tui.ui import format as fmt
from tunacode_tui.ui.activity import STATUS_ICONS, CallRecord
from tunacode_tui.ui.highlighting import highlight_diff, highlight_result
from tunacode_tui.ui.textual_compat import collapsible_title

PREVIEW_LINES = 200
PREVIEW_CHARS = 20_000
"""The chat shows at most this much of a result; the batch inspector and the session keep all of it."""


def call_title(call: CallRecord) -> str:
    duration = f"  {fmt.seconds(call.duration)}" if call.duration is not None else ""
    summary = f"  {fmt.one_line(call.summary, 60)}" if call.summary else ""
    status = "" if call.status in ("done", "running") else f"  ({call.status})"
    return f"{STATUS_ICONS[call.status]} {call.name}{summary}{duration}{status}"


def preview(text: str) -> tuple[str, int]:
    """The start of ``text`` that the chat shows, and how many lines it leaves out."""
    if len(text) <= PREVIEW_CHARS and text.count("\n") < PREVIEW_LINES:
        return text, 0  # the same string: nothing is copied
    lines = text[:PREVIEW_CHARS].splitlines()[:PREVIEW_LINES]
    return "\n".join(lines), text.count("\n") + 1 - len(lines)


class ToolCallEntry(Collapsible):
    """Collapsed: ``✓ read_file  path=a.py  0.12s``. Expanded: the result (or diff), highlighted.

    Only a preview of the result is kept (the call's record, with all of it, stays with the batch inspector), and
    it is highlighted on first expansion, so a long session of unopened calls costs little.
    """

    DEFAULT_CSS = """
    ToolCallEntry {
        margin: 0;
        padding: 0 0 0 1;
        border-top: none;
        background: transparent;
        & > CollapsibleTitle { padding: 0; color: $text-muted; }
        &.-failed > CollapsibleTitle { color: $text-error; }
        &.-refused > CollapsibleTitle, &.-cancelled > CollapsibleTitle { color: $text-warning; }
        & > Contents { padding: 0 0 0 2; height: auto; max-height: 24; overflow-y: auto; }
        & .tool-call-entry--result { color: $text; }
    }
    """

    def __init__(self, call: CallRecord) -> None:
        super().__init__(title=call_title(call), collapsed=True)
        self.add_class(f"-{call.status}")
        self.tool = call.name
        self.args: dict[str, Any] = call.args
        self.is_diff = bool(call.display)
        self.preview, self.hidden_lines = preview(call.display or call.result)
        self._filled = False

    def compose(self) -> ComposeResult:
        # The contents are mounted when first expanded: one widget less per call until then.
        yield collapsible_title(self)

    async def on_collapsible_expanded(self, event: Collapsible.Expanded) -> None:
        if event.collapsible is not self or self._filled:
            return
        self._filled = True
        if self.is_diff:
            body = highlight_diff(self.preview)
        else:
            body = highlight_result(self.tool, self.args, self.preview)
        if self.hidden_lines:
            body = body.append(Content(f"\n… {self.hidden_lines} more lines (open the batch to see all)"))
        await self.mount(Collapsible.Contents(Static(body, classes="tool-call-entry--result")))
