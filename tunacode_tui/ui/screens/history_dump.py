"""``/dump``: the whole message history the model sees, with each message's token count."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Header, Label, Static

from tunacode_tui.core.messages import Message, TextPart, ThinkingPart, ToolCallPart, ToolResultPart
from tunacode_tui.session.redact import mask_secrets
from tunacode_tui.ui import format as fmt

MAX_PART_CHARS = 4_000


def describe(message: Message) -> str:
    """Every part of a message as text; long parts are shortened (the count is of the whole)."""
    chunks = []
    for part in message.parts:
        if isinstance(part, TextPart):
            text = part.text
        elif isinstance(part, ThinkingPart):
            text = f"[thinking] {part.text}"
        elif isinstance(part, ToolCallPart):
            text = f"[tool call {part.id}] {part.name}({part.raw_arguments or part.arguments})"
        elif isinstance(part, ToolResultPart):
            error = " error" if part.is_error else ""
            text = f"[tool result{error} {part.tool_call_id}] {part.content}"
        else:  # pragma: no cover - the union is closed
            text = str(part)
        if len(text) > MAX_PART_CHARS:
            text = text[:MAX_PART_CHARS] + f" … ({len(text) - MAX_PART_CHARS:,} more characters)"
        chunks.append(text)
    return "\n".join(chunks)


class HistoryDumpScreen(Screen[None]):
    """A read-only, scrollable view; Esc goes back."""

    CSS_PATH = "history_dump.tcss"
    BINDINGS = [Binding("escape", "app.pop_screen", "Back")]
    AUTO_FOCUS = "#messages"

    def __init__(
        self, messages: list[Message], count: Callable[[Message], int], secrets: list[str] | None = None
    ) -> None:
        super().__init__()
        self.messages = messages
        self.count = count
        self.secrets = secrets or []

    def compose(self) -> ComposeResult:
        counts = [self.count(m) for m in self.messages]
        yield Header()
        yield Label(Content(f"{len(self.messages)} messages, {fmt.tokens(sum(counts))} tokens (local count)"),
                    id="dump-title")
        with VerticalScroll(id="messages"):
            if not self.messages:
                yield Static("The history is empty.")
            for index, (message, tokens) in enumerate(zip(self.messages, counts, strict=True), start=1):
                with Vertical(classes=f"message -{message.role}"):
                    yield Label(Content(f"#{index} {message.role} · {fmt.tokens(tokens)} tokens"), classes="head")
                    yield Static(Content(mask_secrets(describe(message), self.secrets)), classes="body")
        yield Footer()
