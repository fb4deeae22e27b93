"""Asking before a write or a shell command: Yes; Yes always (for bash, this command's prefix in this project;
for other tools, the tool for this session); or No (optionally saying why)."""

from __future__ import annotations

from typing import Any

from textual import getters, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from tunacode_tui.core.events import PermissionDecision
from tunacode_tui.core.permission_rules import COMMAND_TOOLS, suggest_rule
from tunacode_tui.ui.highlighting import describe_request


class PermissionScreen(ModalScreen[PermissionDecision]):
    """Dismisses with a ``PermissionDecision``; Esc refuses. The caller resolves the loop's future."""

    CSS_PATH = "permission.tcss"
    AUTO_FOCUS = "#yes"

    # The reason Input consumes letters while it has focus, so y/a/n answer only from the buttons.
    BINDINGS = [
        Binding("y", "decide('yes')", "Yes"),
        Binding("a", "decide('always')", "Yes, always"),
        Binding("n", "decide('no')", "No"),
        Binding("escape", "decide('no')", "No", show=False),
    ]

    reason = getters.query_one("#reason", Input)

    def __init__(self, tool: str, summary: str, preview: str | None, args: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.tool = tool
        self.summary = summary
        self.preview = preview
        self.args = args or {}
        # What "always" remembers; None for a compound shell command, which is asked about every time.
        self.rule = suggest_rule(tool, self.args)

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(Content.from_markup("Allow [b]$tool[/b] to run?", tool=self.tool), id="title")
            yield Static(Content(self.summary or "(no arguments)"), id="summary")
            if self.preview or self.args:
                with VerticalScroll(id="preview"):
                    yield Static(describe_request(self.tool, self.args, self.preview))
            yield Input(placeholder="No: tell the model why (optional), then Enter", id="reason")
            with Horizontal(id="buttons"):
                yield Button("Yes (y)", id="yes", variant="success")
                if self.rule is None:
                    pass
                elif self.tool in COMMAND_TOOLS:
                    inner = self.rule[len(self.tool) + 1 : -1]  # bash(git status:*) -> git status:*
                    yield Button(Content.assemble("Always ", (inner, "bold"), " (a)"), id="always",
                                 variant="primary",
                                 tooltip=f"Allow {self.rule} from now on in this project; saved in "
                                         "your data folder (permissions.json), not in the project")
                else:
                    yield Button(f"Yes, always for {self.tool} (a)", id="always", variant="primary")
                yield Button("No (n)", id="no", variant="error")

    def action_decide(self, choice: str) -> None:
        if choice == "yes":
            self.dismiss(PermissionDecision(True))
        elif choice == "always":
            if self.rule is None:
                return  # a compound command: no rule can safely cover it
            rule = self.rule if self.tool in COMMAND_TOOLS else None
            self.dismiss(PermissionDecision(True, always=True, rule=rule))
        else:
            self.dismiss(PermissionDecision(False, reason=self.reason.value.strip()))

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.action_decide(event.button.id or "no")

    @on(Input.Submitted, "#reason")
    def _reason_submitted(self) -> None:
        self.action_decide("no")
