"""What every tool is: a name, a JSON schema, a ``read_only`` flag and an async ``run``.

``read_only`` is what the executor batches on: read-only tools run concurrently, everything else is a
barrier that runs alone and asks permission first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from tunacode_tui.core.messages import ToolSpec


class ToolError(Exception):
    """A failure the model should read and can recover from (bad path, no match, refused...).

    The executor turns it into an error tool result; it never escapes the loop.
    """


class ToolCancelled(Exception):
    """A cancel stopped a tool part-way, after it had already done something (bash ran part of a command).

    The message says what happened, so the model and the journal get the truth instead of "cancelled
    before it finished"; the executor reports the call as cancelled with this text.
    """


@dataclass(slots=True)
class ToolContext:
    """What a tool may know about the world: the project root and shared session state."""

    root: Path
    todos: list[dict[str, Any]] = field(default_factory=list)
    # Extra folders outside the root the user allowed tools to touch.
    allowed_dirs: list[Path] = field(default_factory=list)
    # Environment for bash; None means "inherit, minus provider secrets".
    bash_env: dict[str, str] | None = None
    # Shared caches and guards (read cache, file hashes for stale-write checks); set by the app.
    services: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class ToolOutput:
    """A tool's answer: ``content`` goes to the model; ``display`` (optional) is richer text for the UI,
    e.g. a diff."""

    content: str
    display: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


class Tool:
    name: ClassVar[str]
    description: ClassVar[str]
    parameters: ClassVar[dict[str, Any]]
    read_only: ClassVar[bool] = True

    def spec(self) -> ToolSpec:
        return ToolSpec(self.name, self.description, self.parameters)

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutput:  # pragma: no cover
        raise NotImplementedError

    def summary(self, args: dict[str, Any]) -> str:
        """A short one-line description of a call for the activity pane and permission modal."""
        for key in ("file_path", "path", "pattern", "command", "action"):
            if key in args:
                return f"{key}={str(args[key])[:60]}"
        return ""
