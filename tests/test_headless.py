"""Headless mode end to end: the real ``tunacode`` console entry in a subprocess, against the fake
OpenAI-compatible endpoint. Overlap and ordering are read from the stream-json records."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fake_llm_server import FakeLLMServer, text, tool_call, usage


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
    assert batch_end["size"] == 4 and batch_end["speedup"] > 0
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
    assert no_url.returncode == 1 and "Traceback" not in no_url.stderr and "OPENAI_BASE_URL" in no_url.stderr
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
