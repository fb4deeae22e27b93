"""Slash commands: one registry for the prompt's completion, ``/help`` and the command palette.

Each command names the method of the main screen that runs it (``command_<name>``), so the registry
stays plain data and the palette, the prompt and the tests go through the same dispatch.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Protocol

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from textual.screen import Screen


@dataclass(slots=True, frozen=True)
class Command:
    name: str
    usage: str
    help: str
    # Values the first argument can take, offered by completion ("/thoughts on").
    choices: tuple[str, ...] = ()
    # Whether the command needs an argument before it can run (the palette then fills the prompt).
    needs_argument: bool = False

    @property
    def method(self) -> str:
        return "command_" + self.name.lstrip("/")

    @property
    def plain_help(self) -> str:
        """The help without Markdown marks, for places that show text as is (the command palette)."""
        return self.help.replace("`", "")


def table_cell(text: str) -> str:
    """``text`` safe in a Markdown table cell: a ``|`` would end the cell (even inside backticks) and
    ``<word>`` would be taken for HTML and vanish."""
    pieces = text.split("`")
    # Outside code spans (even pieces) a backslash escapes ``<``; inside, only the table's ``\|`` works.
    pieces = [p.replace("<", "\\<") if i % 2 == 0 else p for i, p in enumerate(pieces)]
    return "`".join(pieces).replace("|", "\\|")


COMMANDS: tuple[Command, ...] = (
    Command("/help", "/help", "Show the commands and keys."),
    Command("/clear", "/clear [all]", "Clear the conversation and activity; `all` also resets totals.", ("all",)),
    Command("/compact", "/compact [focus]", "Summarise the conversation to free context (optional focus)."),
    Command("/model", "/model [name]", "Pick a model, or switch to `provider:model` directly."),
    Command("/thoughts", "/thoughts on|off", "Show model thinking and batch messages in the chat.", ("on", "off")),
    Command("/streaming", "/streaming on|off", "Stream answers as they are written, or show them whole.",
            ("on", "off")),
    Command("/yolo", "/yolo", "Toggle running writes and bash without asking."),
    Command("/iterations", "/iterations N", "Set the most model requests one prompt may make.",
            needs_argument=True),
    Command("/undo", "/undo", "Put back the files the last prompt changed (never a file changed since)."),
    Command("/dump", "/dump", "Show the message history with per-message token counts."),
    Command("/resume", "/resume [ID]", "List this folder's saved sessions, or reopen one by ID (or prefix)."),
    Command("/export", "/export [path]", "Write the conversation as Markdown (default: tunacode-<session>.md)."),
    Command("/analytics", "/analytics tools", "Tool calls, failures, timings; batch overlap, measured speedups.",
            ("tools",)),
    Command("/mcp", "/mcp [approve]", "MCP servers: state, tools (read-only or not), last error; `approve` "
            "asks again about the project's servers.", ("approve",)),
    Command("/exit", "/exit", "Quit TunaCode."),
)

BY_NAME: dict[str, Command] = {command.name: command for command in COMMANDS}


class UnknownCommand(ValueError):
    """The text starts with ``/`` but names no command; the message lists what exists."""


def parse(text: str) -> tuple[Command, str]:
    """Split ``/name arg...`` into the command and its (stripped) argument text."""
    head, _, rest = text.strip().partition(" ")
    command = BY_NAME.get(head.lower())
    if command is None:
        names = ", ".join(c.name for c in COMMANDS)
        raise UnknownCommand(f"Unknown command {head!r}. Commands: {names}. Type /help for details.")
    return command, rest.strip()


def complete(text: str) -> list[str]:
    """Completions for what is typed so far: command names, then the first argument's choices."""
    if not text.startswith("/") or "\n" in text:
        return []
    head, space, rest = text.partition(" ")
    if not space:
        return [c.name for c in COMMANDS if c.name.startswith(head.lower())]
    command = BY_NAME.get(head.lower())
    if command is None or " " in rest:
        return []
    return [f"{command.name} {choice}" for choice in command.choices if choice.startswith(rest.lower())]


class CommandRunner(Protocol):
    def run_command(self, text: str) -> None: ...

    def prefill_prompt(self, text: str) -> None: ...


class SlashCommandsProvider(Provider):
    """The slash commands in Textual's command palette (Ctrl+P)."""

    def _runner(self) -> CommandRunner | None:
        screen: Screen[object] = self.screen
        return screen if hasattr(screen, "run_command") else None  # type: ignore[return-value]

    def _action(self, runner: CommandRunner, command: Command) -> partial[None]:
        if command.needs_argument:
            return partial(runner.prefill_prompt, command.name + " ")
        return partial(runner.run_command, command.name)

    async def discover(self) -> Hits:
        runner = self._runner()
        if runner is None:
            return
        for command in COMMANDS:
            yield DiscoveryHit(command.usage, self._action(runner, command), help=command.plain_help)

    async def search(self, query: str) -> Hits:
        runner = self._runner()
        if runner is None:
            return
        matcher = self.matcher(query)
        for command in COMMANDS:
            score = matcher.match(command.usage)
            if score > 0:
                yield Hit(score, matcher.highlight(command.usage), self._action(runner, command),
                          text=command.usage, help=command.plain_help)
