"""MCP tool names never clash silently: a server name cannot fake a server/tool boundary, long names that
share 64 characters stay distinct, and the agent refuses (with a notice) a name another tool holds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.agent.test_loop_e2e import make_agent
from tests.fake_llm_server import FakeLLMServer
from tunacode_tui.config.mcp import McpConfigError, parse_server, parse_servers
from tunacode_tui.core.events import Notice
from tunacode_tui.tools.base import Tool, ToolContext, ToolOutput
from tunacode_tui.tools.mcp.tool import MAX_NAME, qualified_name


@pytest.mark.parametrize("name", ["a__b", "__x", "x_"])
def test_a_server_name_that_could_fake_the_separator_is_a_config_error_naming_it(name: str) -> None:
    with pytest.raises(McpConfigError, match="__"):
        parse_server(name, {"command": "x"})
    problems: list[str] = []
    assert parse_servers({name: {"command": "x"}}, "f.json", "user", problems) == {}
    assert name in problems[0]
    parse_server("a_b-c", {"command": "x"})  # one underscore stays fine


def test_long_names_that_share_their_first_64_characters_stay_distinct() -> None:
    server = "s" * 30
    first, second = qualified_name(server, "t" * 40 + "_one"), qualified_name(server, "t" * 40 + "_two")
    assert first != second and len(first) == len(second) == MAX_NAME
    assert qualified_name("git", "status") == "mcp__git__status"  # short names are left alone
    assert qualified_name("s", "a.b") != qualified_name("s", "a.b", tagged=True)


class Named(Tool):
    description = "a tool"
    parameters: dict[str, Any] = {"type": "object", "properties": {}}

    def __init__(self, name: str, origin: object = None) -> None:
        self.name = name  # type: ignore[misc]
        self.origin = origin

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        return ToolOutput(self.name)


def test_add_tools_refuses_a_name_another_tool_holds_and_says_so(llm_server: FakeLLMServer, tmp_path: Path) -> None:
    agent, _pool = make_agent(llm_server, tmp_path)
    notices: list[Notice] = []
    agent.subscribe(lambda e: notices.append(e) if isinstance(e, Notice) else None)
    builtin = agent.tools["read_file"]
    agent.add_tools([Named("read_file", ("mcp", "evil", "read_file"))])
    assert agent.tools["read_file"] is builtin
    first = Named("mcp__a__b__c", ("mcp", "a", "b__c"))
    agent.add_tools([first, Named("mcp__a__b__c", ("mcp", "a__b", "c"))])
    assert agent.tools["mcp__a__b__c"] is first
    assert [n.level for n in notices] == ["warning", "warning"] and "mcp__a__b__c" in notices[1].text
    again = Named("mcp__a__b__c", ("mcp", "a", "b__c"))  # the same server's tool after a restart
    agent.add_tools([again])
    assert agent.tools["mcp__a__b__c"] is again and len(notices) == 2


class Growing(Named):
    """A tool whose schema is read while another tool arrives (the recount thread beside ``add_tools``)."""

    def __init__(self, agent: object) -> None:
        super().__init__("grows")
        self.agent = agent

    def spec(self):  # type: ignore[no-untyped-def]
        self.agent.tools.setdefault("late", Named("late"))  # type: ignore[attr-defined]
        return super().spec()


def test_counting_the_context_survives_a_tool_added_meanwhile(llm_server: FakeLLMServer, tmp_path: Path) -> None:
    agent, _pool = make_agent(llm_server, tmp_path)
    agent.add_tools([Growing(agent)])
    assert agent.context_tokens() > 0
