"""MCP servers through the real ``tunacode -p`` against the fake LLM server: the reference servers
``mcp-server-git`` and ``mcp-server-time`` as they ship, and tests/mcp/sample_server.py for the failures."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.fake_llm_server import FakeLLMServer, text, tool_call
from tests.mcp.helpers import git, git_server, sample_server, server_processes, time_server, write_servers
from tests.test_headless import records, run_cli


def test_read_only_mcp_calls_and_a_read_run_as_one_parallel_batch(
    llm_server: FakeLLMServer, repo: Path, tmp_path: Path
) -> None:
    config = write_servers(tmp_path / "mcp.json", {"git": git_server(repo), "time": time_server()})
    llm_server.add(
        tool_call("mcp__git__git_status", {"repo_path": str(repo)}),
        tool_call("mcp__git__git_log", {"repo_path": str(repo)}),
        tool_call("mcp__time__get_current_time", {"timezone": "UTC"}),
        tool_call("read_file", {"file_path": "notes.txt"}),
    )
    llm_server.add(text("Done."))
    proc = run_cli(llm_server, repo, tmp_path, "-p", "status?", "--output-format", "stream-json",
                   "--max-parallel", "4", "--mcp-config", str(config))
    assert proc.returncode == 0, proc.stderr
    recs = records(proc.stdout)
    status = {r["server"]: r for r in recs if r["type"] == "mcp_status"}
    assert status["git"]["state"] == "ready" and status["time"]["state"] == "ready"
    git_tools = {t["name"]: t["read_only"] for t in status["git"]["tools"]}
    assert git_tools["mcp__git__git_status"] and git_tools["mcp__git__git_log"]
    assert not git_tools["mcp__git__git_commit"] and not git_tools["mcp__git__git_add"]

    # One batch of four, its calls overlapping in time.
    [batch] = [r for r in recs if r["type"] == "batch_end"]
    assert batch["size"] == 4 and batch["status"] == "done"
    ends = [r for r in recs if r["type"] == "tool_end"]
    assert {r["batch"] for r in ends} == {batch["batch"]} and all(r["ok"] for r in ends)
    intervals = [(r["start"], r["start"] + r["duration"]) for r in ends]
    first_end = min(end for _, end in intervals)
    assert sum(start < first_end for start, _ in intervals) >= 2, intervals

    # The model received the servers' real output, in the order it made the calls.
    sent = llm_server.requests[1].body["messages"]
    results = [m for m in sent if m["role"] == "tool"]
    assert len(results) == 4
    status_text, log_text, time_text, file_text = (m["content"] for m in results)
    assert "On branch main" in status_text and "notes.txt" in status_text
    assert "Add the notes" in log_text
    assert json.loads(time_text)["timezone"] == "UTC"
    assert "second line" in file_text
    assert [m["tool_call_id"] for m in results] == [
        c["id"] for c in next(m for m in sent if m["role"] == "assistant")["tool_calls"]]
    # The tools were offered with their schemas.
    offered = {t["function"]["name"]: t["function"] for t in llm_server.requests[0].body["tools"]}
    assert offered["mcp__git__git_log"]["parameters"]["properties"]["repo_path"]["type"] == "string"
    assert "read_file" in offered
    assert server_processes(f"--repository {repo}") == [], "the git server outlived tunacode"


def test_git_commit_is_a_barrier_that_needs_permission(llm_server: FakeLLMServer, repo: Path, tmp_path: Path) -> None:
    config = write_servers(tmp_path / "mcp.json", {"git": git_server(repo)})
    git(repo, "add", "notes.txt")
    llm_server.add(
        tool_call("mcp__git__git_status", {"repo_path": str(repo)}),
        tool_call("mcp__git__git_commit", {"repo_path": str(repo), "message": "Second line"}),
    )
    llm_server.add(text("Refused."))
    proc = run_cli(llm_server, repo, tmp_path, "-p", "commit", "--output-format", "stream-json",
                   "--mcp-config", str(config))
    assert proc.returncode == 0, proc.stderr
    recs = records(proc.stdout)
    assert [r["name"] for r in recs if r["type"] == "permission_refused"] == ["mcp__git__git_commit"]
    assert recs[-1]["refused"] == ["mcp__git__git_commit"]
    assert len([r for r in recs if r["type"] == "batch_end"]) == 2  # the commit ran alone, after the status
    assert "Add the notes" in git(repo, "log", "--oneline") and "Second line" not in git(repo, "log", "--oneline")

    llm_server.add(
        tool_call("mcp__git__git_commit", {"repo_path": str(repo), "message": "Second line"}),
    )
    llm_server.add(text("Committed."))
    proc = run_cli(llm_server, repo, tmp_path, "-p", "commit", "--yolo", "--mcp-config", str(config))
    assert proc.returncode == 0, proc.stderr
    assert "Second line" in git(repo, "log", "--oneline")


def _start_headless(server: FakeLLMServer, repo: Path, tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY") and "BASE_URL" not in k}
    env.update({"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": server.openai_base_url,
                "TUNACODE_CONFIG": str(tmp_path / "cfg.json"), "TUNACODE_DATA_DIR": str(tmp_path / "data"),
                "TUNACODE_MODEL": "openai-compatible:local-model"})
    return subprocess.Popen([sys.executable, "-m", "tunacode_tui", "--cwd", str(repo), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _wait_for_marker(proc: subprocess.Popen[str], marker: Path) -> int:
    """The pid the sample server's ``slow`` tool wrote once the call began."""
    deadline = time.monotonic() + 60
    while not (marker.exists() and marker.read_text()):
        assert proc.poll() is None and time.monotonic() < deadline, "the slow call never started"
        time.sleep(0.05)
    return int(marker.read_text())


def test_ctrl_c_cancels_an_mcp_call_and_stops_the_server(
    llm_server: FakeLLMServer, repo: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "pid"
    config = write_servers(tmp_path / "mcp.json", {"test": sample_server()})
    llm_server.add(tool_call("mcp__test__slow", {"seconds": 600, "marker": str(marker)}))
    proc = _start_headless(llm_server, repo, tmp_path, "-p", "wait", "--mcp-config", str(config))
    try:
        server_pid = _wait_for_marker(proc, marker)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130, stderr
    assert "cancelled" in stderr and "Traceback" not in stderr
    deadline = time.monotonic() + 10
    while Path(f"/proc/{server_pid}").exists() and (Path(f"/proc/{server_pid}/stat").read_text().split()[2] != "Z"):
        assert time.monotonic() < deadline, "the MCP server outlived tunacode"
        time.sleep(0.05)


def test_a_server_killed_mid_call_is_a_tool_error(llm_server: FakeLLMServer, repo: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pid"
    config = write_servers(tmp_path / "mcp.json", {"test": sample_server()})
    llm_server.add(tool_call("mcp__test__slow", {"seconds": 60, "marker": str(marker)}))
    llm_server.add(text("The server died."))
    proc = _start_headless(llm_server, repo, tmp_path, "-p", "wait", "--output-format", "stream-json",
                           "--mcp-config", str(config))
    try:
        os.kill(_wait_for_marker(proc, marker), signal.SIGKILL)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, stderr
    recs = records(stdout)
    [end] = [r for r in recs if r["type"] == "tool_end"]
    assert not end["ok"] and end["status"] == "failed"
    sent = [m for m in llm_server.requests[1].body["messages"] if m["role"] == "tool"]
    assert "stopped while running slow" in sent[0]["content"]
    assert [r["state"] for r in recs if r["type"] == "mcp_status"] == ["ready", "failed"]
    assert recs[-1]["type"] == "result" and recs[-1]["text"] == "The server died."


def test_servers_that_never_start_are_notices_and_the_prompt_still_runs(
    llm_server: FakeLLMServer, repo: Path, tmp_path: Path
) -> None:
    hang = ("import sys, time\nprint('listening on nothing', file=sys.stderr, flush=True)\ntime.sleep(600)")
    config = write_servers(tmp_path / "mcp.json", {
        "missing": {"command": str(tmp_path / "no-such-server")},
        "silent": {"command": "python3", "args": ["-c", hang], "startup_timeout": 2},
    })
    llm_server.add(text("Fine without them."))
    started = time.monotonic()
    proc = run_cli(llm_server, repo, tmp_path, "-p", "hi", "--mcp-config", str(config))
    assert time.monotonic() - started < 30
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "Fine without them."
    assert "MCP server missing" in proc.stderr and "command was not found" in proc.stderr
    assert "MCP server silent" in proc.stderr and "within 2s" in proc.stderr
    assert "listening on nothing" in proc.stderr  # the server's own stderr tail
    assert "Traceback" not in proc.stderr
    assert not [t for t in llm_server.requests[0].body.get("tools", []) if t["function"]["name"].startswith("mcp__")]


def test_project_servers_need_the_flag_headless(llm_server: FakeLLMServer, repo: Path, tmp_path: Path) -> None:
    (repo / ".mcp.json").write_text(json.dumps({"mcpServers": {"time": time_server()}}))
    llm_server.add(text("one"))
    proc = run_cli(llm_server, repo, tmp_path, "-p", "hi", "--output-format", "stream-json")
    assert proc.returncode == 0, proc.stderr
    recs = records(proc.stdout)
    assert not [r for r in recs if r["type"] == "mcp_status"]
    [notice] = [r for r in recs if r["type"] == "notice"]
    assert "--allow-project-mcp" in notice["text"] and "time" in notice["text"]

    llm_server.add(text("two"))
    proc = run_cli(llm_server, repo, tmp_path, "-p", "hi", "--output-format", "stream-json", "--allow-project-mcp")
    assert proc.returncode == 0, proc.stderr
    [status] = [r for r in records(proc.stdout) if r["type"] == "mcp_status"]
    assert status["server"] == "time" and status["state"] == "ready" and status["source"] == "project"

