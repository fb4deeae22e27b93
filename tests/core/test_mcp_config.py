"""MCP entries as Claude Code writes them, how read-only is decided, and which servers a run starts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tunacode_tui.config.loader import parse_config
from tunacode_tui.config.mcp import McpConfigError, ProjectApprovals, expand_variables, parse_server, plan_servers


def test_claude_code_entries_parse_as_they_are(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCS_TOKEN", "t0k")
    stdio = parse_server("git", {"command": "uvx", "args": ["mcp-server-git"], "env": {"A": "1"}, "cwd": "~"})
    assert (stdio.transport, stdio.command, stdio.args, stdio.env) == ("stdio", "uvx", ("mcp-server-git",), {"A": "1"})
    assert stdio.cwd == str(Path.home()) and stdio.target == "uvx mcp-server-git"
    http = parse_server("docs", {"type": "http", "url": "https://x.test/mcp",
                                 "headers": {"Authorization": "Bearer ${DOCS_TOKEN}"}})
    assert http.transport == "http" and http.headers == {"Authorization": "Bearer t0k"}
    assert parse_server("u", {"url": "http://127.0.0.1:1/mcp"}).transport == "http"  # type inferred from url


@pytest.mark.parametrize(("name", "entry", "problem"), [
    ("git", {"args": []}, "needs a command"),
    ("git", {"type": "sse", "url": "http://x/sse"}, "not supported"),
    ("git", {"type": "http", "url": "ftp://x"}, "http:// or https://"),
    ("has space", {"command": "x"}, "server names"),
    ("git", {"command": "x", "read_only": "yes"}, "read_only must be"),
    ("git", {"command": "x", "timeout": 0}, "timeout must be"),
    ("git", {"command": "x", "env": {"K": "${TUNA_SURELY_UNSET}"}}, "is not set"),
])
def test_bad_entries_say_what_to_fix(name: str, entry: dict, problem: str) -> None:
    with pytest.raises(McpConfigError, match=problem):
        parse_server(name, entry)


def test_variables_expand_with_defaults() -> None:
    assert expand_variables("${A:-fallback}/${B}", {"B": "b"}) == "fallback/b"


def test_read_only_comes_from_the_hint_unless_the_entry_overrides() -> None:
    hints = parse_server("s", {"command": "x"})
    assert hints.is_read_only("status", True) and not hints.is_read_only("commit", None)
    listed = parse_server("s", {"command": "x", "read_only": ["query"]})
    assert listed.is_read_only("query", None) and listed.is_read_only("status", True)
    assert not listed.is_read_only("drop", False)
    assert parse_server("s", {"command": "x", "read_only": True}).is_read_only("drop", False)
    assert not parse_server("s", {"command": "x", "read_only": False}).is_read_only("status", True)


def test_a_bad_entry_in_the_config_file_is_skipped_not_fatal(tmp_path: Path) -> None:
    config = parse_config(json.dumps({"mcp_servers": {"ok": {"command": "x"}, "bad": {"args": []}}}),
                          tmp_path / "tunacode.json")
    assert list(config.mcp_servers) == ["ok"]
    [problem] = config.mcp_problems
    assert "'bad' was not started" in problem and "tunacode.json" in problem
    assert config.warnings == []  # "mcp_servers" is a config key, not an unknown one


def test_project_servers_wait_for_an_answer_that_is_remembered_per_content(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    (root / ".tunacode").mkdir(parents=True)
    file = root / ".tunacode" / "mcp.json"
    file.write_text(json.dumps({"mcpServers": {"db": {"command": "db-server"}, "git": {"command": "evil"}}}))
    user = {"git": parse_server("git", {"command": "mcp-server-git"})}
    approvals = ProjectApprovals(tmp_path / "approvals.json")

    plan = plan_servers(user, root, approvals=approvals)
    assert list(plan.servers) == ["git"] and plan.servers["git"].command == "mcp-server-git"  # the user's wins
    assert plan.pending_project == file and list(plan.pending_servers) == ["db"]
    assert any("already configured by you" in n for n in plan.notices)

    approvals.remember(file, True)
    assert set(plan_servers(user, root, approvals=approvals).servers) == {"git", "db"}
    file.write_text(file.read_text() + "\n")  # a changed file is asked about again
    assert plan_servers(user, root, approvals=approvals).pending_project == file
    approvals.remember(file, False)
    declined = plan_servers(user, root, approvals=approvals)
    assert declined.declined and "db" not in declined.servers and "/mcp approve" in declined.notices[-1]
    assert "db" in plan_servers(user, root, approvals=approvals, allow_project=True).servers
