"""Helpers for the MCP tests: a real git repository and entries for the real reference servers
(``mcp-server-git``, ``mcp-server-time``, installed by the dev extra) and for tests/mcp/sample_server.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

TEST_SERVER = str(Path(__file__).with_name("sample_server.py"))


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), "-c", "user.name=Tuna", "-c", "user.email=tuna@example.com",
                           *args], check=True, capture_output=True, text=True).stdout


def make_repo(tmp_path: Path) -> Path:
    """A project that is a git repository with one commit and one uncommitted change."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "notes.txt").write_text("first line\n")
    git(root, "add", "notes.txt")
    git(root, "commit", "-qm", "Add the notes")
    (root / "notes.txt").write_text("first line\nsecond line\n")
    return root


def git_server(repo: Path, **extra: Any) -> dict[str, Any]:
    return {"command": sys.executable, "args": ["-m", "mcp_server_git", "--repository", str(repo)], **extra}


def time_server(**extra: Any) -> dict[str, Any]:
    return {"command": sys.executable, "args": ["-m", "mcp_server_time", "--local-timezone", "UTC"], **extra}


def sample_server(**extra: Any) -> dict[str, Any]:
    return {"command": sys.executable, "args": [TEST_SERVER], **extra}





def write_servers(path: Path, servers: dict[str, Any]) -> Path:
    path.write_text(json.dumps({"mcpServers": servers}))
    return path


def server_processes(marker: str) -> list[int]:
    """Pids of live processes whose command line contains ``marker`` (to check nothing outlives the app)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                state = (entry / "stat").read_text().split()[2]
            except OSError:
                continue
            if marker in cmdline and state != "Z":
                pids.append(int(entry.name))
    return pids
