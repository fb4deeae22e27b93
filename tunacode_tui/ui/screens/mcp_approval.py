"""Asking once before starting a project's MCP servers: they are programs the project chose, run as the user."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from tunacode_tui.config.mcp import McpServerConfig


def describe_server(name: str, server: McpServerConfig) -> str:
    """Everything the entry makes happen, as written: the program or URL, its folder, its environment (keys
    and values), the headers it sends (names only) and the variables of yours it would read."""
    lines = [f"{name}: {server.target}"]
    if server.cwd:
        lines.append(f"  in folder: {server.cwd}")
    lines += [f"  env {key}={value}" for key, value in server.env.items()]
    if server.headers:
        lines.append(f"  sends headers: {', '.join(server.headers)}")
    if server.variables:
        lines.append(f"  reads your environment variables: {', '.join(server.variables)}")
    return "\n".join(lines)


class McpApprovalScreen(ModalScreen[bool]):
    """Dismisses with True (start them) or False (not now; Esc)."""

    DEFAULT_CSS = """
    McpApprovalScreen { align: center middle; background: $background 60%; }
    McpApprovalScreen #dialog {
        width: 90%; max-width: 110; height: auto; max-height: 90%;
        border: thick $warning 70%; background: $surface; padding: 1 2;
    }
    McpApprovalScreen #title { text-style: bold; margin-bottom: 1; }
    McpApprovalScreen #servers { height: auto; max-height: 16; border: round $panel-lighten-2; margin-bottom: 1; }
    McpApprovalScreen #buttons { height: auto; align-horizontal: right; }
    McpApprovalScreen #buttons Button { margin-left: 1; }
    """
    AUTO_FOCUS = "#no"
    BINDINGS = [
        Binding("y", "decide(True)", "Start them"),
        Binding("n", "decide(False)", "Not now"),
        Binding("escape", "decide(False)", "Not now", show=False),
    ]

    def __init__(self, file: Path, servers: dict[str, McpServerConfig]) -> None:
        super().__init__()
        self.file = file
        self.servers = servers

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(Content.from_markup("Start the MCP servers of [b]$file[/b]?", file=str(self.file)),
                        id="title")
            yield Static("This project asks to run these programs (or connect to these URLs) with your "
                         "permissions. Your answer is remembered until the file changes.")
            with VerticalScroll(id="servers"):
                for name, server in self.servers.items():
                    yield Static(Content(describe_server(name, server)), classes="server")
            with Horizontal(id="buttons"):
                yield Button("Start them (y)", id="yes", variant="warning")
                yield Button("Not now (n)", id="no", variant="primary")

    def action_decide(self, approved: bool) -> None:
        self.dismiss(approved)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")
