"""Start-up: ``tunacode --version`` / ``--help`` and the TUI's first frame, beside bare Python.

Run: python -m benchmarks.startup [--mcp]   (--mcp: with the reference MCP servers configured)
Targets (issue 6): --version under 150 ms, first frame under 700 ms (2-core machine). The first frame is
timed from spawning ``tunacode`` on a pseudo-terminal to the moment the app's first refresh completed
(the app writes that time to TUNACODE_FIRST_FRAME_FILE), then the app is closed with Ctrl+Q.
"""

from __future__ import annotations

import contextlib
import json
import os
import pty
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 15


def tunacode_bin() -> str:
    candidate = Path(sys.executable).parent / "tunacode"
    return str(candidate) if candidate.exists() else (shutil.which("tunacode") or "tunacode")


def time_command(cmd: list[str], runs: int = RUNS) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True)
        out.append(time.perf_counter() - start)
    return out


def first_frame_once(env: dict[str, str]) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        marker = Path(tmp) / "frame.json"
        child_env = {**env, "TUNACODE_FIRST_FRAME_FILE": str(marker), "TERM": "xterm-256color",
                     "COLUMNS": "140", "LINES": "40"}
        start = time.time()
        pid, fd = pty.fork()
        if pid == 0:  # child: the real console script on a real (pseudo) terminal
            os.execve(tunacode_bin(), [tunacode_bin(), "--cwd", tmp], child_env)
        deadline = time.monotonic() + 20
        try:
            while not marker.exists() or not marker.read_text():
                if time.monotonic() > deadline:
                    raise RuntimeError("no first frame within 20 s")
                ready, _, _ = select.select([fd], [], [], 0.005)
                if ready:
                    try:
                        os.read(fd, 65536)  # keep the terminal drained
                    except OSError:
                        break
            frame = json.loads(marker.read_text())["time"] - start
            os.write(fd, b"\x11")  # Ctrl+Q
            end = time.monotonic() + 10
            while time.monotonic() < end:
                ready, _, _ = select.select([fd], [], [], 0.05)
                if ready:
                    try:
                        if not os.read(fd, 65536):
                            break
                    except OSError:
                        break
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, 9)
            os.waitpid(pid, 0)
            os.close(fd)
        return frame


def row(label: str, values: list[float], target: float | None) -> str:
    median = statistics.median(values) * 1000
    p95 = sorted(values)[max(0, round(0.95 * len(values)) - 1)] * 1000
    verdict = "" if target is None else ("yes" if median < target else "NO")
    target_text = "" if target is None else f"< {target:.0f} ms"
    return f"{label:<28} {median:>9.1f} {p95:>9.1f} {target_text:>10} {verdict:>4}"


def main() -> None:
    tmp = tempfile.mkdtemp()
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update({"TUNACODE_CONFIG": f"{tmp}/tunacode.json", "TUNACODE_DATA_DIR": f"{tmp}/data",
                "OPENAI_API_KEY": "sk-bench", "TUNACODE_MODEL": "openai:gpt-4.1"})
    os.environ.update(env)
    if "--mcp" in sys.argv:  # the two reference MCP servers configured: they must not move these figures
        servers = {"time": {"command": sys.executable, "args": ["-m", "mcp_server_time"]},
                   "git": {"command": sys.executable, "args": ["-m", "mcp_server_git"]}}
        Path(f"{tmp}/tunacode.json").write_text(json.dumps({"mcp_servers": servers}))
        print("with MCP servers configured: time, git")
    print(f"cores: {os.cpu_count()}  runs: {RUNS} (median and p95, milliseconds)\n")
    print(f"{'command':<28} {'median':>9} {'p95':>9} {'target':>10} {'met':>4}")
    print(row("python -c pass", time_command([sys.executable, "-c", "pass"]), None))
    print(row("python -c 'import textual.app'", time_command([sys.executable, "-c", "import textual.app"]), None))
    print(row("tunacode --version", time_command([tunacode_bin(), "--version"]), 150))
    print(row("tunacode --help", time_command([tunacode_bin(), "--help"]), 150))
    frames = [first_frame_once(env) for _ in range(7)]
    print(row("first frame (pty)", frames, 700))
    print("\nimports on the --version path:", subprocess.run(
        [sys.executable, "-c", "import sys; from tunacode_tui.cli import build_parser; build_parser();"
         "print(sorted(m for m in ('textual','openai','anthropic','tiktoken','mcp') if m in sys.modules))"],
        capture_output=True, text=True, check=True).stdout.strip())


if __name__ == "__main__":
    main()
