"""An MCP server's tool as one of ours: ``mcp__<server>__<tool>``, its JSON schema, and a ``read_only`` flag the
executor schedules on exactly as it does for ``read_file`` (read-only calls join parallel batches; the rest
are barriers behind the permission prompt)."""

from __future__ import annotations

import hashlib
import json
import re
from typing import TYPE_CHECKING, Any

from tunacode_tui.tools.base import Tool, ToolContext, ToolError, ToolOutput
from tunacode_tui.tools.bash import MAX_OUTPUT_CHARS

if TYPE_CHECKING:
    from tunacode_tui.tools.mcp.connection import McpConnection, RemoteTool

PREFIX = "mcp__"
# Providers accept tool names of at most 64 characters from this alphabet.
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
MAX_NAME = 64


def qualified_name(server: str, tool: str, *, tagged: bool = False) -> str:
    """``mcp__<server>__<tool>`` in the providers' alphabet. A name past 64 characters (or one the caller
    found taken, ``tagged``) ends in a short hash of the real server and tool names, so two long names that
    share their first 64 characters stay two tools instead of one silently replacing the other."""
    name = PREFIX + _UNSAFE.sub("_", server) + "__" + _UNSAFE.sub("_", tool)
    if len(name) <= MAX_NAME and not tagged:
        return name
    digest = hashlib.sha256(f"{server}\0{tool}".encode()).hexdigest()[:8]
    return name[: MAX_NAME - len(digest) - 1] + "_" + digest


def _schema(raw: dict[str, Any]) -> dict[str, Any]:
    """The server's input schema as providers take it: an object with properties, no ``$schema`` key."""
    schema = {k: v for k, v in raw.items() if k != "$schema"}
    schema["type"] = "object"
    schema.setdefault("properties", {})
    return schema


def cap(text: str, limit: int = MAX_OUTPUT_CHARS) -> str:
    """The same output budget as the built-in tools: a server's huge answer must not flood the context."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n… [output cut: {len(text) - limit:,} more characters not shown]"


def render_result(result: Any) -> str:
    """A ``CallToolResult`` as text for the model. Structured content is shown as JSON when the server sent
    no text: the spec asks servers to mirror structured content as text, so showing both would repeat it."""
    parts: list[str] = []
    for block in getattr(result, "content", None) or []:
        kind = getattr(block, "type", "")
        if kind == "text":
            parts.append(block.text)
        elif kind in ("image", "audio"):
            size = len(getattr(block, "data", "") or "") * 3 // 4
            parts.append(f"[{kind} {getattr(block, 'mime_type', '')}, about {size:,} bytes, not shown]")
        elif kind == "resource_link":
            parts.append(f"[resource link: {block.uri} ({block.name})]")
        elif kind == "resource":
            resource = block.resource
            text = getattr(resource, "text", None)
            parts.append(f"[resource {resource.uri}]\n{text}" if text is not None
                         else f"[resource {resource.uri}: binary, not shown]")
        else:
            parts.append(f"[{kind or 'unknown'} content, not shown]")
    structured = getattr(result, "structured_content", None)
    if not parts and structured is not None:
        parts.append(json.dumps(structured, indent=2, ensure_ascii=False, default=str))
    return "\n".join(parts) if parts else "(the tool returned no content)"


class McpTool(Tool):
    """One remote tool. Instances carry what ``Tool`` declares per class: name, description, schema, read_only."""

    def __init__(self, connection: McpConnection, remote: RemoteTool) -> None:
        self.connection = connection
        self.remote = remote
        self.server = connection.name
        self.name = qualified_name(self.server, remote.name)  # type: ignore[misc]
        self.origin = ("mcp", self.server, remote.name)  # the same tool again (a restarted server), not a clash
        self.description = f"(MCP server {self.server}) {remote.description or remote.name}"  # type: ignore[misc]
        self.parameters = _schema(remote.input_schema)  # type: ignore[misc]
        self.read_only = connection.config.is_read_only(remote.name, remote.read_only_hint)  # type: ignore[misc]

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        result = await self.connection.call(self.remote.name, args)
        text = cap(render_result(result))
        if getattr(result, "is_error", False):
            raise ToolError(f"{self.remote.name} on MCP server {self.server!r} reported an error: {text}")
        return ToolOutput(text, metadata={"server": self.server, "tool": self.remote.name})

    def summary(self, args: dict[str, Any]) -> str:
        """Server and tool first (the permission modal's second line), then the arguments in brief."""
        shown = json.dumps(args, ensure_ascii=False, default=str)
        return f"{self.server} · {self.remote.name} {shown[:80]}"
