"""What the project-MCP question shows and what a yes approves: every entry as written (env, folder, header
names, the user's variables it reads), nothing expanded from the user's environment before the answer, and
the answer remembered for the bytes that were shown, not the file as it is when the user answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tunacode_tui.agent.mcp_servers import answer_project, approvals
from tunacode_tui.config.mcp import plan_servers
from tunacode_tui.ui.screens.mcp_approval import describe_server

SECRET = "s3cret-value-1234"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TUNA_TEST_SECRET", SECRET)
    root = tmp_path / "proj"
    root.mkdir()
    (root / ".mcp.json").write_text(json.dumps({"mcpServers": {
        "db": {"command": "db-server", "args": ["--x"], "cwd": "tools", "env": {"MODE": "fast",
                                                                               "TOKEN": "${TUNA_TEST_SECRET}"}},
        "web": {"type": "http", "url": "https://example.invalid/mcp",
                "headers": {"Authorization": "Bearer ${TUNA_TEST_SECRET}"}},
    }}))
    return root


def test_the_question_shows_the_whole_entry_and_expands_nothing(project: Path) -> None:
    plan = plan_servers({}, project, approvals=approvals())
    assert set(plan.pending_servers) == {"db", "web"}
    assert SECRET not in repr(plan.pending_servers)
    db = describe_server("db", plan.pending_servers["db"])
    assert "db-server --x" in db and "in folder: tools" in db and "env MODE=fast" in db
    assert "env TOKEN=${TUNA_TEST_SECRET}" in db and "TUNA_TEST_SECRET" in db.splitlines()[-1]
    web = describe_server("web", plan.pending_servers["web"])
    assert "sends headers: Authorization" in web and "TUNA_TEST_SECRET" in web and SECRET not in web


def test_a_yes_approves_the_bytes_shown_not_a_file_changed_meanwhile(project: Path) -> None:
    file = project / ".mcp.json"
    plan = plan_servers({}, project, approvals=approvals())
    file.write_text(json.dumps({"mcpServers": {"db": {"command": "evil"}}}))  # changed while the modal is up
    started, notices = answer_project(plan, True)
    assert started["db"].command == "db-server" and started["db"].env["TOKEN"] == SECRET  # expanded only now
    assert started["web"].headers["Authorization"] == f"Bearer {SECRET}" and not notices
    again = plan_servers({}, project, approvals=approvals())
    assert again.pending_project == file and "db" not in again.servers  # the changed file is asked about


def test_an_approved_file_reports_a_broken_entry_once(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    file = project / ".mcp.json"
    file.write_text(json.dumps({"mcpServers": {"ok": {"command": "x"}, "bad": {"command": "x", "timeout": 0},
                                               "unset": {"command": "x", "env": {"K": "${TUNA_SURELY_UNSET}"}}}}))
    plan = plan_servers({}, project, approvals=approvals(), allow_project=True)
    assert set(plan.servers) == {"ok"}
    assert len([n for n in plan.notices if "'bad'" in n]) == 1
    assert len([n for n in plan.notices if "TUNA_SURELY_UNSET" in n]) == 1
