"""Headless mode end to end: the real ``tunacode`` console entry in a subprocess, against the fake
OpenAI-compatible endpoint. Overlap and ordering are read from the stream-json records."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fake_llm_server import FakeLLMServer, Reply, text, tool_call, usage


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    for name in ("a", "b", "c", "d"):
        (root / f"{name}.py").write_text(f"def {name}():\n    return '{name}'\n" * 50)
    return root


def run_cli(server: FakeLLMServer, root: Path, tmp_path: Path, *args: str, env: dict[str, str] | None = None,
            ) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY") and "BASE_URL" not in k}
    full_env.update({
        "OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": server.openai_base_url,
        "TUNACODE_CONFIG": str(tmp_path / "cfg.json"), "TUNACODE_DATA_DIR": str(tmp_path / "data"),
        "TUNACODE_MODEL": "openai-compatible:local-model",
    })
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "tunacode_tui", "--cwd", str(root), *args],
                          capture_output=True, text=True, env=full_env, timeout=60)


def records(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def four_reads(server: FakeLLMServer) -> None:
    server.add(*[tool_call("read_file", {"file_path": f"{n}.py"}) for n in "abcd"], usage(input=500, output=60))


def test_stream_json_shows_overlapping_reads(llm_server: FakeLLMServer, project: Path, tmp_path: Path) -> None:
    four_reads(llm_server)
    llm_server.add(text("All four read."), usage(input=900, output=5))
    proc = run_cli(llm_server, project, tmp_path, "-p", "read them", "--output-format", "stream-json",
                   "--max-parallel", "4")
    assert proc.returncode == 0, proc.stderr
    recs = records(proc.stdout)
    kinds = [r["type"] for r in recs]
    assert kinds[-1] == "result" and recs[-1]["text"] == "All four read."
    assert all("t" in r for r in recs)
    ts = [r["t"] for r in recs]
    assert ts == sorted(ts), "t is monotonic"
    starts = {r["call_id"]: r for r in recs if r["type"] == "tool_start"}
    ends = {r["call_id"]: r for r in recs if r["type"] == "tool_end"}
    assert len(starts) == 4 and set(starts) == set(ends)
    # Overlap: every call started before the last one ended.
    assert max(s["t"] for s in starts.values()) < max(e["t"] for e in ends.values())
    first_end = min(e["t"] for e in ends.values())
    assert sum(s["t"] <= first_end for s in starts.values()) >= 2
    batch_end = next(r for r in recs if r["type"] == "batch_end")
    assert batch_end["size"] == 4 and batch_end["overlap"] > 0 and "speedup" not in batch_end
    assert not [r for r in recs if r["type"] == "batch_measured"], "nothing is re-run without --measure-batches"
    assert any(r["type"] == "usage" for r in recs)


def test_sequential_mode_never_overlaps(llm_server: FakeLLMServer, project: Path, tmp_path: Path) -> None:
    four_reads(llm_server)
    llm_server.add(text("ok"))
    proc = run_cli(llm_server, project, tmp_path, "-p", "read", "--output-format", "stream-json",
                   env={"TUNACODE_MAX_PARALLEL": "1"})
    assert proc.returncode == 0, proc.stderr
    recs = records(proc.stdout)
    intervals = sorted((e["start"], e["start"] + e["duration"]) for e in recs if e["type"] == "tool_end")
    assert len(intervals) == 4
    assert all(intervals[i + 1][0] >= intervals[i][1] for i in range(3))


def test_writes_are_refused_without_yolo(llm_server: FakeLLMServer, project: Path, tmp_path: Path) -> None:
    llm_server.add(tool_call("write_file", {"file_path": "new.txt", "content": "hi"}))
    llm_server.add(text("I could not write."))
    proc = run_cli(llm_server, project, tmp_path, "-p", "write", "--output-format", "json")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["refused"] == ["write_file"]
    assert not (project / "new.txt").exists()
    assert "--yolo" in proc.stderr


def test_a_repository_cannot_grant_headless_runs_permissions(llm_server: FakeLLMServer, project: Path,
                                                             tmp_path: Path) -> None:
    """`tunacode -p` in CI on an attacker's pull request: the repo's own settings file must not allow bash."""
    (project / ".tunacode").mkdir()
    (project / ".tunacode" / "settings.json").write_text(json.dumps({"allowed_tools": ["bash", "write_file"]}))
    llm_server.add(tool_call("bash", {"command": "touch pwned"}))
    llm_server.add(text("I could not."))
    proc = run_cli(llm_server, project, tmp_path, "-p", "go", "--output-format", "json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["refused"] == ["bash"]
    assert not (project / "pwned").exists()
    assert "allowed_tools in a project file is ignored" in proc.stderr


def test_yolo_allows_writes(llm_server: FakeLLMServer, project: Path, tmp_path: Path) -> None:
    llm_server.add(tool_call("write_file", {"file_path": "new.txt", "content": "hi\n"}))
    llm_server.add(text("Written."))
    proc = run_cli(llm_server, project, tmp_path, "-p", "write", "--yolo")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "Written."
    assert (project / "new.txt").read_text() == "hi\n"


def test_provider_error_exits_non_zero_with_one_line(llm_server: FakeLLMServer, project: Path,
                                                     tmp_path: Path) -> None:
    from tests.fake_llm_server import status

    llm_server.add(status(404, message="The model `local-model` does not exist"))
    proc = run_cli(llm_server, project, tmp_path, "-p", "hi")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "not found" in proc.stderr.lower() or "404" in proc.stderr


def test_bad_model_name_is_a_config_error(llm_server: FakeLLMServer, project: Path, tmp_path: Path) -> None:
    proc = run_cli(llm_server, project, tmp_path, "-p", "hi", "--model", "nosuch:model")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "nosuch" in proc.stderr


def test_malformed_config_is_a_clear_error(llm_server: FakeLLMServer, project: Path, tmp_path: Path) -> None:
    (tmp_path / "cfg.json").write_text("{\n  bad json\n")
    proc = run_cli(llm_server, project, tmp_path, "-p", "hi")
    assert proc.returncode == 2 and "line 2" in proc.stderr and "Traceback" not in proc.stderr


def test_version_and_help() -> None:
    out = subprocess.run([sys.executable, "-m", "tunacode_tui", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("tunacode ")
    out = subprocess.run([sys.executable, "-m", "tunacode_tui", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "--output-format" in out.stdout


def test_input_mistakes_are_one_line_errors(llm_server: FakeLLMServer, project: Path, tmp_path: Path) -> None:
    empty = run_cli(llm_server, project, tmp_path, "-p", "  ")
    assert empty.returncode == 2 and "prompt is empty" in empty.stderr
    proc = subprocess.run([sys.executable, "-m", "tunacode_tui", "--cwd", str(tmp_path / "nope"), "-p", "hi"],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2 and "no such folder" in proc.stderr
    no_url = run_cli(llm_server, project, tmp_path, "-p", "hi", "--model", "openai-compatible:qwen",
                     env={"OPENAI_BASE_URL": ""})
    # A configuration error (README: exit 2), found before any request.
    assert no_url.returncode == 2 and "Traceback" not in no_url.stderr and "OPENAI_BASE_URL" in no_url.stderr
    assert no_url.stderr.count("OPENAI_BASE_URL") <= 2  # said once, not repeated by every layer


def test_debug_log_goes_to_the_log_file_not_the_terminal(llm_server: FakeLLMServer, project: Path,
                                                          tmp_path: Path) -> None:
    four_reads(llm_server)
    llm_server.add(text("ok"))
    logs = tmp_path / "logs"
    proc = run_cli(llm_server, project, tmp_path, "-p", "read", "--max-parallel", "4",
                   env={"LOG_LEVEL": "DEBUG", "TUNACODE_LOG_DIR": str(logs)})
    assert proc.returncode == 0, proc.stderr
    assert "Tool execution completed" not in proc.stderr + proc.stdout
    text_ = (logs / "tunacode.log").read_text()
    assert "Tool execution completed in" in text_ and "Parallel batch 1 completed in" in text_
    assert "sk-test" not in text_
    # Only our own loggers and the SDK's request lines: no asyncio/markdown-it debug noise.
    names = {line.split(" ")[3].rstrip(":") for line in text_.splitlines() if line[:2].isdigit()}
    assert names and all(n.startswith(("tunacode", "openai", "anthropic", "httpx")) for n in names), names
    assert "POST" in text_  # the request line is there


def four_greps(server: FakeLLMServer) -> None:
    patterns = ["def f1", "return 4", "class K", "import os"]
    server.add(*[tool_call("grep", {"pattern": p}) for p in patterns], usage(input=500, output=60))
    server.add(text("Searched."), usage(input=900, output=5))


def test_measure_batches_reruns_the_batch_and_reports_what_it_measured(
    llm_server: FakeLLMServer, project: Path, tmp_path: Path
) -> None:
    """Four CPU-bound greps on this machine: the live overlap may be high, the measured speedup is what running
    them one at a time vs all at once gave, and it is the only speedup reported."""
    for i in range(400):
        (project / f"m{i}.py").write_text(f"import os\nclass K{i}:\n    def f{i}(self):\n        return {i}\n" * 20)
    four_greps(llm_server)
    proc = run_cli(llm_server, project, tmp_path, "-p", "search", "--output-format", "stream-json",
                   "--max-parallel", "4", "--measure-batches")
    assert proc.returncode == 0, proc.stderr
    recs = records(proc.stdout)
    kinds = [r["type"] for r in recs]
    assert kinds.index("batch_measured") > kinds.index("batch_end") and kinds[-1] == "result"
    [measured] = [r for r in recs if r["type"] == "batch_measured"]
    assert {"batch", "sequential_wall", "parallel_wall", "speedup", "runs"} <= set(measured)
    assert measured["batch"] == 1 and measured["size"] == 4 and measured["cap"] == 4 and measured["reliable"]
    assert [r["mode"] for r in measured["runs"]] == ["sequential", "parallel"] * 3
    seq = sorted(r["wall"] for r in measured["runs"] if r["mode"] == "sequential")[1]
    par = sorted(r["wall"] for r in measured["runs"] if r["mode"] == "parallel")[1]
    assert measured["sequential_wall"] == seq and measured["parallel_wall"] == par
    assert abs(measured["speedup"] - seq / par) < 0.01
    # Four calls at once cannot finish more than (cores) times sooner than one at a time, whatever they overlapped.
    assert measured["speedup"] < (os.cpu_count() or 1) * 1.5
    assert recs[-1]["measured"] == [{k: v for k, v in measured.items() if k not in ("type", "t")}]
    session = recs[-1]["session"]
    journal = tmp_path / "data" / "sessions" / f"{session}.jsonl"
    assert [r["speedup"] for r in records(journal.read_text()) if r["type"] == "batch_measured"] == [
        measured["speedup"]]


def test_measure_batches_in_text_mode_keeps_stdout_for_the_answer(
    llm_server: FakeLLMServer, project: Path, tmp_path: Path
) -> None:
    four_greps(llm_server)
    proc = run_cli(llm_server, project, tmp_path, "-p", "search", "--max-parallel", "2", "--measure-batches")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "Searched.\n"
    assert "batch #1 (4 calls, cap 2): sequential " in proc.stderr and "measured speedup " in proc.stderr
def test_bash_cannot_read_keys_from_the_parent_environment(llm_server: FakeLLMServer, project: Path,
                                                            tmp_path: Path) -> None:
    """bash read the keys from /proc/$PPID/environ (issue 12, item 6): the parent's initial environment,
    which scrubbing bash's own environment does not touch."""
    secret = "sk-test-secret-0123456789"
    probe = ("tr '\\0' '\\n' < /proc/$PPID/environ | grep -c sk-test-secret; echo \"env:$OPENAI_API_KEY\"; "
             "echo parent=$(cat /proc/$PPID/comm)")
    llm_server.add(tool_call("bash", {"command": probe}))
    llm_server.add(text("done"))
    proc = run_cli(llm_server, project, tmp_path, "-p", "look", "--yolo", "--output-format", "json",
                   env={"OPENAI_API_KEY": secret, "SOME_OTHER_API_KEY": secret + "2"})
    assert proc.returncode == 0, proc.stderr
    sent = json.dumps(llm_server.requests[-1].body)
    assert "parent=python" in sent  # the probe really read tunacode's own /proc entry
    assert secret not in sent, "a key reached the model through bash"
    assert "0\\nenv:\\nparent" in sent
    # ...and the key still worked for the requests themselves.
    assert llm_server.requests[0].headers["authorization"] == f"Bearer {secret}"


def _wait_gone(pid: int, seconds: float = 15.0) -> bool:
    """Dead (or a zombie): the kill itself is synchronous, the reaping by init is not."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.05)
    return False


def test_sighup_ends_running_bash_commands(llm_server: FakeLLMServer, project: Path, tmp_path: Path) -> None:
    """kill -HUP left the bash command running under PID 1 (issue 12, item 7)."""
    fifo = project / "ready"
    os.mkfifo(fifo)
    llm_server.add(tool_call("bash", {"command": "sleep 300 & echo $! > ready; wait"}))
    llm_server.add(text("unreached"))
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY") and "BASE_URL" not in k}
    env.update({"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": llm_server.openai_base_url,
                "TUNACODE_CONFIG": str(tmp_path / "cfg.json"), "TUNACODE_DATA_DIR": str(tmp_path / "data"),
                "TUNACODE_MODEL": "openai-compatible:local-model"})
    proc = subprocess.Popen([sys.executable, "-m", "tunacode_tui", "--cwd", str(project), "-p", "run it", "--yolo"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        child = int(fifo.read_text())  # blocks until the command has started its child
        proc.send_signal(signal.SIGHUP)
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert _wait_gone(child), "the bash command outlived tunacode after SIGHUP"


def test_missing_key_exits_2(project: Path, tmp_path: Path) -> None:
    """The README says 2 for a configuration error; a missing key exited 1 (issue 12, low)."""
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY") and "BASE_URL" not in k}
    env.update({"TUNACODE_CONFIG": str(tmp_path / "cfg.json"), "TUNACODE_DATA_DIR": str(tmp_path / "data"),
                "TUNACODE_MODEL": "anthropic:claude-sonnet-5-5"})
    proc = subprocess.run([sys.executable, "-m", "tunacode_tui", "--cwd", str(project), "-p", "hi"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert "ANTHROPIC_API_KEY" in proc.stderr


def test_stale_temp_files_are_cleaned_on_start(llm_server: FakeLLMServer, project: Path, tmp_path: Path) -> None:
    """kill -9 mid-write leaves .NAME.<hex>.tmp files that nothing removed (issue 12, low): start-up
    removes old ones of exactly our pattern at the project's top, and leaves everything else."""
    ours = project / ".a.py.0badf00d.tmp"
    others = [project / ".a.py.tmp", project / "notes.0badf00d.tmp", project / ".a.py.0BADF00D.tmp"]
    for path in [ours, *others]:
        path.write_text("half")
        os.utime(path, (1_000_000, 1_000_000))
    llm_server.add(text("hi"))
    proc = run_cli(llm_server, project, tmp_path, "-p", "hello")
    assert proc.returncode == 0, proc.stderr
    assert not ours.exists()
    assert all(p.exists() for p in others)


def test_sigint_during_a_big_edit_leaves_disk_and_journal_agreeing(llm_server: FakeLLMServer, project: Path,
                                                                    tmp_path: Path) -> None:
    """SIGINT while update_file rewrote a 39 MB file: reported "cancelled", exit 130, and the file edited
    anyway (issue 12, item 1). The signal is sent once the write's temp file exists, i.e. mid-write."""
    big = project / "big.py"
    original = "x = 0\n" * 7_000_000 + "TARGET = 1\n"
    big.write_text(original)
    llm_server.add(tool_call("update_file", {"file_path": "big.py", "old_text": "TARGET = 1",
                                             "new_text": "TARGET = 2"}))
    llm_server.add(text("unreached"))
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY") and "BASE_URL" not in k}
    env.update({"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": llm_server.openai_base_url,
                "TUNACODE_CONFIG": str(tmp_path / "cfg.json"), "TUNACODE_DATA_DIR": str(tmp_path / "data"),
                "TUNACODE_MODEL": "openai-compatible:local-model"})
    proc = subprocess.Popen([sys.executable, "-m", "tunacode_tui", "--cwd", str(project), "-p", "edit", "--yolo"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not list(project.glob(".big.py.*.tmp")) and proc.poll() is None:
            assert time.monotonic() < deadline, "the write never started"
            time.sleep(0.002)  # watching for a file another process creates: there is no event to await
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    changed = big.read_text() != original
    journal = next((tmp_path / "data").rglob("*.jsonl"))
    results = [part for line in journal.read_text().splitlines() if (rec := json.loads(line)).get("type") == "message"
               for part in rec["message"]["parts"] if part.get("kind") == "tool_result"]
    assert len(results) == 1
    said_done = results[0]["content"].startswith("Updated big.py")
    assert changed == said_done, (changed, results[0]["content"][:200])
    assert not list(project.glob(".big.py.*.tmp"))


def test_password_in_base_url_is_masked(llm_server: FakeLLMServer, project: Path, tmp_path: Path) -> None:
    """A password in a base URL was printed in errors and stream-json (issue 12, low)."""
    from tests.fake_llm_server import status

    llm_server.add(status(404, message="no such model"))
    url = llm_server.openai_base_url.replace("http://", "http://alice:hunter2-secret@")
    proc = run_cli(llm_server, project, tmp_path, "-p", "hi", "--output-format", "stream-json",
                   env={"OPENAI_BASE_URL": url})
    assert proc.returncode == 1
    assert "alice:***@" in proc.stdout + proc.stderr  # the URL is still shown, so the user can find it
    assert "hunter2-secret" not in proc.stdout and "hunter2-secret" not in proc.stderr


def test_prompt_from_stdin(llm_server: FakeLLMServer, project: Path, tmp_path: Path) -> None:
    """`tunacode -p -` sent "-" as the prompt (issue 12, low)."""
    llm_server.add(text("got it"))
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY") and "BASE_URL" not in k}
    env.update({"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": llm_server.openai_base_url,
                "TUNACODE_CONFIG": str(tmp_path / "cfg.json"), "TUNACODE_DATA_DIR": str(tmp_path / "data"),
                "TUNACODE_MODEL": "openai-compatible:local-model"})
    proc = subprocess.run([sys.executable, "-m", "tunacode_tui", "--cwd", str(project), "-p", "-"],
                          input=b"summarise this\nplease \xe9\n", capture_output=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode() == "got it\n"
    sent = llm_server.requests[-1].body["messages"][-1]["content"]
    assert sent == "summarise this\nplease \\xe9\n"


def test_piped_stdin_without_p_is_a_clear_error_not_a_hang(project: Path, tmp_path: Path) -> None:
    """A piped run without -p opened the TUI and hung (issue 12, low)."""
    env = {**os.environ, "TUNACODE_CONFIG": str(tmp_path / "cfg.json"), "TUNACODE_DATA_DIR": str(tmp_path / "d")}
    proc = subprocess.run([sys.executable, "-m", "tunacode_tui", "--cwd", str(project)], input="hello\n",
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 2
    assert "not a terminal" in proc.stderr and "-p -" in proc.stderr


def test_log_file_is_private(llm_server: FakeLLMServer, project: Path, tmp_path: Path) -> None:
    """tunacode.log was 0644 (issue 12, low); it holds requests, paths and tool output."""
    import stat

    llm_server.add(text("hi"))
    logs = tmp_path / "logs"
    proc = run_cli(llm_server, project, tmp_path, "-p", "hello",
                   env={"LOG_LEVEL": "DEBUG", "TUNACODE_LOG_DIR": str(logs)})
    assert proc.returncode == 0, proc.stderr
    log = logs / "tunacode.log"
    assert log.stat().st_size > 0
    assert stat.S_IMODE(log.stat().st_mode) == 0o600



def test_debug_log_says_sequential_when_the_batch_ran_one_call_at_a_time(
        llm_server: FakeLLMServer, project: Path, tmp_path: Path) -> None:
    four_reads(llm_server)
    llm_server.add(text("ok"))
    logs = tmp_path / "logs"
    proc = run_cli(llm_server, project, tmp_path, "-p", "read", "--max-parallel", "1",
                   env={"LOG_LEVEL": "DEBUG", "TUNACODE_LOG_DIR": str(logs)})
    assert proc.returncode == 0, proc.stderr
    text_ = (logs / "tunacode.log").read_text()
    assert "Sequential batch 1 completed in" in text_ and "Parallel batch" not in text_


def test_config_warnings_reach_stderr(llm_server: FakeLLMServer, project: Path, tmp_path: Path) -> None:
    (tmp_path / "cfg.json").write_text('{\n  "settings": {\n    "max_paralel": 2\n  }\n}\n')
    llm_server.add(text("ok"))
    proc = run_cli(llm_server, project, tmp_path, "-p", "hi")
    assert proc.returncode == 0, proc.stderr
    assert f"{tmp_path / 'cfg.json'}:3: settings.max_paralel is not a setting" in proc.stderr


def test_continue_keeps_answering_past_a_small_window(llm_server: FakeLLMServer, project: Path,
                                                       tmp_path: Path) -> None:
    """A plain chat with --continue on a server that takes 4,096 tokens (llama.cpp's /v1/models says so, and
    it refuses anything larger): the window is read from the server, the history is compacted, every turn
    answers and exits 0."""
    llm_server.models = [{"id": "local-model", "owned_by": "llamacpp", "meta": {"n_ctx": 4096, "n_ctx_train": 8192}}]
    llm_server.context_limit = 4096
    llm_server.default_reply = Reply.build((text("Noted. " * 10),))
    (tmp_path / "cfg.json").write_text(json.dumps({"settings": {"max_response_tokens": 64}}))
    paragraph = "Here is more about the project and what it should do next. " * 40
    trims: list[dict] = []
    for turn in range(5):
        args = ["-p", f"Turn {turn}. {paragraph}", "--output-format", "stream-json"]
        proc = run_cli(llm_server, project, tmp_path, *args, *(["--continue"] if turn else []))
        assert proc.returncode == 0, f"turn {turn}: {proc.stderr}"
        recs = records(proc.stdout)
        assert recs[-1]["type"] == "result" and recs[-1]["text"].startswith("Noted.")
        assert {r["context_window"] for r in recs if r["type"] == "usage"} == {4096}
        trims += [r for r in recs if r["type"] == "context_trimmed"]
    assert any(t["what"] == "compacted" for t in trims)
