"""The real ``tunacode`` console script in a real terminal (tmux): start, send a prompt, see the answer, quit."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fake_llm_server import FakeLLMServer, text, usage

TMUX = shutil.which("tmux")
SCRIPT = Path(sys.executable).with_name("tunacode")

pytestmark = [
    pytest.mark.skipif(TMUX is None, reason="tmux is not installed"),
    pytest.mark.skipif(not SCRIPT.exists(), reason="the tunacode console script is not installed in this venv"),
]


def tmux(socket: str, *args: str) -> subprocess.CompletedProcess[str]:
    assert TMUX is not None
    return subprocess.run([TMUX, "-L", socket, *args], capture_output=True, text=True, timeout=10)


def wait_for_screen(socket: str, needle: str, timeout: float = 20.0) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = tmux(socket, "capture-pane", "-p", "-t", "app").stdout
        if needle in screen:
            return screen
        time.sleep(0.1)
    raise AssertionError(f"{needle!r} did not appear within {timeout}s; the screen was:\n{screen}")


def start_app(socket: str, llm_server: FakeLLMServer, tmp_path: Path, size: tuple[int, int]) -> None:
    """``tunacode`` in a detached tmux session ``app`` of ``size``, against ``llm_server``, in a clean environment."""
    config = tmp_path / "tunacode.json"
    config.write_text(json.dumps({
        "default_model": "openai:gpt-4.1",
        "env": {"OPENAI_API_KEY": "test", "OPENAI_BASE_URL": llm_server.openai_base_url},
    }), encoding="utf-8")
    project = tmp_path / "project"
    project.mkdir()
    env = {
        "TUNACODE_CONFIG": str(config), "TUNACODE_DATA_DIR": str(tmp_path / "data"), "TERM": "xterm-256color",
        "HOME": str(tmp_path), "PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8",
    }
    command = "env -i " + " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    command += f" {shlex.quote(str(SCRIPT))} --cwd {shlex.quote(str(project))}"
    started = tmux(socket, "new-session", "-d", "-s", "app", "-x", str(size[0]), "-y", str(size[1]), command)
    assert started.returncode == 0, started.stderr


def test_prompt_and_quit_in_a_real_terminal(llm_server: FakeLLMServer, tmp_path: Path) -> None:
    llm_server.add(text("Hello from the fake model, through a real terminal."), usage(input=50, output=12))
    socket = f"tunacode-test-{os.getpid()}"
    start_app(socket, llm_server, tmp_path, (120, 40))
    try:
        wait_for_screen(socket, "openai:gpt-4.1")
        tmux(socket, "send-keys", "-t", "app", "-l", "say hello")
        tmux(socket, "send-keys", "-t", "app", "Enter")
        screen = wait_for_screen(socket, "through a real terminal.")
        assert "say hello" in screen
        assert "Tokens: 62" in screen
        tmux(socket, "send-keys", "-t", "app", "C-q")
        deadline = time.monotonic() + 10
        while tmux(socket, "has-session", "-t", "app").returncode == 0:
            assert time.monotonic() < deadline, "tunacode did not exit on Ctrl+Q"
            time.sleep(0.1)
    finally:
        tmux(socket, "kill-server")
    assert len(llm_server.requests) == 1


LINE_61 = "The loader reads tunacode.json first, then the env overrides."


def test_80x24_shows_a_61_character_line_whole_and_ctrl_c_cancels(llm_server: FakeLLMServer, tmp_path: Path) -> None:
    """The default terminal size: the chat has the width (a 61-character answer line on one row), the footer
    keeps Quit and Cancel, and Ctrl+C mid-response cancels it and leaves the app open."""
    assert len(LINE_61) == 61
    llm_server.add(text(LINE_61), usage(input=50, output=12))
    llm_server.add(text("word " * 2000), chunk_size=5, delay=0.01)
    socket = f"tunacode-test-80-{os.getpid()}"
    start_app(socket, llm_server, tmp_path, (80, 24))
    try:
        screen = wait_for_screen(socket, "openai:gpt-4.1")
        footer = screen.rstrip("\n").splitlines()[-1]
        assert "Quit" in footer and "Cancel" in footer, footer
        tmux(socket, "send-keys", "-t", "app", "-l", "explain")
        tmux(socket, "send-keys", "-t", "app", "Enter")
        screen = wait_for_screen(socket, "env overrides.")
        assert any(LINE_61 in row for row in screen.splitlines()), screen
        tmux(socket, "send-keys", "-t", "app", "-l", "write a lot")
        tmux(socket, "send-keys", "-t", "app", "Enter")
        wait_for_screen(socket, "word word word")
        tmux(socket, "send-keys", "-t", "app", "C-c")
        screen = wait_for_screen(socket, "Cancelled")
        assert tmux(socket, "has-session", "-t", "app").returncode == 0, "Ctrl+C closed the app"
        assert "Quit" in screen.rstrip("\n").splitlines()[-1]
        assert len(llm_server.requests) == 2
    finally:
        tmux(socket, "kill-server")


def test_closing_the_terminal_ends_running_bash_commands(llm_server: FakeLLMServer, tmp_path: Path) -> None:
    """Closing the TUI's terminal (SIGHUP) left a running bash command under PID 1 (issue 12, item 7)."""
    from tests.fake_llm_server import tool_call

    llm_server.add(tool_call("bash", {"command": "sleep 300 & echo $! > ready; wait"}))
    llm_server.add(text("unreached"))
    config = tmp_path / "tunacode.json"
    config.write_text(json.dumps({
        "default_model": "openai:gpt-4.1",
        "env": {"OPENAI_API_KEY": "test", "OPENAI_BASE_URL": llm_server.openai_base_url},
    }), encoding="utf-8")
    project = tmp_path / "project"
    project.mkdir()
    os.mkfifo(project / "ready")
    env = {
        "TUNACODE_CONFIG": str(config), "TUNACODE_DATA_DIR": str(tmp_path / "data"), "TERM": "xterm-256color",
        "HOME": str(tmp_path), "PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8",
    }
    command = "env -i " + " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    command += f" {shlex.quote(str(SCRIPT))} --yolo --cwd {shlex.quote(str(project))}"
    socket = f"tunacode-hup-{os.getpid()}"
    started = tmux(socket, "new-session", "-d", "-s", "app", "-x", "120", "-y", "40", command)
    assert started.returncode == 0, started.stderr
    try:
        wait_for_screen(socket, "openai:gpt-4.1")
        tmux(socket, "send-keys", "-t", "app", "-l", "run it")
        tmux(socket, "send-keys", "-t", "app", "Enter")
        child = int((project / "ready").read_text())  # blocks until the command started its child
    finally:
        tmux(socket, "kill-server")  # the terminal closes: SIGHUP
    deadline = time.monotonic() + 15
    while Path(f"/proc/{child}").exists():
        state = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[0]
        if state in ("Z", "X"):
            break
        assert time.monotonic() < deadline, "the bash command outlived the closed terminal"
        time.sleep(0.1)
