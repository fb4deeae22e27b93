"""One tool call in the chat: a single summary line that expands to show the result."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Collapsible, Static

from tunacode_tui.ui import format as fmt
from tunacode_tui.ui.activity import STATUS_ICONS, CallRecord
from tunacode_tui.ui.highlighting import highlight_diff, highlight_result

PREVIEW_LINES = 200


def call_title(call: CallRecord) -> str:
    duration = f"  {fmt.seconds(call.duration)}" if call.duration is not None else ""
    summary = f"  {fmt.one_line(call.summary, 60)}" if call.summary else ""
    status = "" if call.status in ("done", "running") else f"  ({call.status})"
    return f"{STATUS_ICONS[call.status]} {call.name}{summary}{duration}{status}"


class ToolCallEntry(Collapsible):
    """Collapsed: ``✓ read_file  path=a.py  0.12s``. Expanded: the result (or diff), highlighted.

    The result is highlighted on first expansion, so a long session of unopened calls costs nothing.
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
        self.call = call
        self.add_class(f"-{call.status}")
        self._filled = False

    def on_collapsible_expanded(self, event: Collapsible.Expanded) -> None:
        if event.collapsible is not self or self._filled:
            return
        self._filled = True
        call = self.call
        if call.display:
            body = highlight_diff(call.display)
        else:
            lines = call.result.splitlines()
            text = "\n".join(lines[:PREVIEW_LINES])
            body = highlight_result(call.name, call.args, text)
            if len(lines) > PREVIEW_LINES:
                body = body.append(Content(f"\n… {len(lines) - PREVIEW_LINES} more lines (open the batch to see all)"))
        self.query_one(Collapsible.Contents).mount(Static(body, classes="tool-call-entry--result"))
