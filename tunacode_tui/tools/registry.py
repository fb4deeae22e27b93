"""The tool set the agent offers the model, in a fixed order (the order the model sees them)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from tunacode_tui.core.messages import ToolSpec
from tunacode_tui.tools.base import Tool
from tunacode_tui.tools.bash import BashTool
from tunacode_tui.tools.glob import GlobTool
from tunacode_tui.tools.grep import GrepTool
from tunacode_tui.tools.list_dir import ListDirTool
from tunacode_tui.tools.read_file import ReadFileTool
from tunacode_tui.tools.todo import TodoTool
from tunacode_tui.tools.update_file import UpdateFileTool
from tunacode_tui.tools.web_fetch import WebFetchTool
from tunacode_tui.tools.write_file import WriteFileTool


def default_tools() -> list[Tool]:
    """Fresh instances of the built-in tools, read-only ones first."""
    return [
        ReadFileTool(),
        ListDirTool(),
        GlobTool(),
        GrepTool(),
        WebFetchTool(),
        TodoTool(),
        WriteFileTool(),
        UpdateFileTool(),
        BashTool(),
    ]


class ToolRegistry:
    """Tools by name; ``specs()`` is what goes to the provider, ``get`` is what the executor calls."""

    def __init__(self, tools: Iterable[Tool] | None = None) -> None:
        self._tools: dict[str, Tool] = {}
        for tool in default_tools() if tools is None else tools:
            if tool.name in self._tools:
                raise ValueError(f"duplicate tool name {tool.name!r}")
            self._tools[tool.name] = tool

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def specs(self) -> list[ToolSpec]:
        return [tool.spec() for tool in self._tools.values()]

    def names(self) -> list[str]:
        return list(self._tools)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __iter__(self) -> Iterator[Tool]:
        return iter(self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)
