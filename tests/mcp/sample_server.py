"""A small MCP server for the failure tests, written on the real ``mcp`` SDK's server side.

The reference servers answer too fast to be killed mid-call, so this one has a tool that sleeps (and says
so in a file first), one that exits the process mid-call, and one that is not annotated at all. Run it as
``python tests/mcp/sample_server.py stdio`` or serve it over streamable HTTP from a test (``build()``).
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations

READ_ONLY = ToolAnnotations(read_only_hint=True)


def build() -> MCPServer:
    server = MCPServer("tunacode-test")

    @server.tool(annotations=READ_ONLY)
    async def slow(seconds: float, marker: str = "") -> str:
        """Sleep for `seconds`, writing this process's pid to `marker` first."""
        if marker:
            Path(marker).write_text(str(os.getpid()))
        await asyncio.sleep(seconds)
        return f"slept {seconds}s"

    @server.tool(annotations=READ_ONLY)
    def echo(text: str) -> str:
        """Return `text` unchanged."""
        return text

    @server.tool(annotations=READ_ONLY)
    def fail(why: str) -> str:
        """Fail on purpose, so the server answers with an error result (isError) carrying ``why``."""
        raise ToolError(why)

    @server.tool()
    def crash() -> str:
        """Exit the server process without answering."""
        os._exit(3)

    @server.tool()
    def unannotated(value: int) -> dict[str, int]:
        """A tool with no annotations, returning structured content."""
        return {"value": value, "double": value * 2}

    return server


if __name__ == "__main__":
    print("test server starting", file=sys.stderr, flush=True)
    build().run("stdio")
