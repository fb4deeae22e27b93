"""Small helpers shared by the tool tests."""

from __future__ import annotations

from typing import Any

from tunacode_tui.tools.base import Tool, ToolContext, ToolOutput


async def call(tool: Tool, ctx: ToolContext, **args: Any) -> ToolOutput:
    """Run a tool the way the executor does: arguments as one dict, as a model sends them."""
    return await tool.run(args, ctx)
