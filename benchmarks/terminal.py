"""Latency as a user feels it, in a real terminal: the ``tunacode`` console script on a pseudo-terminal.

Run: python -m benchmarks.terminal            (about 30 s; ``--runs N``, default 7)

Not the pilot: the app runs as its own process on a pty (the Linux driver, real escape sequences, the key
parser), as a user starts it, against the local fake server (``tests/fake_llm_server.py``, instant replies) in this
process. Each run starts a fresh app and measures three figures, with one clock (``time.perf_counter``, the
system's monotonic clock, the same in both processes):

  key echo on the first screen   the first frame is up (the app's TUNACODE_FIRST_FRAME_FILE marker); a key is
                                 written to the pty at once; until the terminal receives a frame with it
  Enter -> request leaves        Enter written to the pty; until the fake server has the request's headers
  prompt -> answer on screen     Enter written to the pty; until the terminal receives the answer's text

The typed key (``Z``) and the answer (``PONG-…``) are strings that appear nowhere else on the screen; the output is
searched with escape sequences removed. Between the echo and Enter the app is left 1.5 s, as a user typing the
rest of the prompt would (the provider SDK is imported in the background in that time).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import pty
import re
import select
import statistics
import struct
import sys
import tempfile
import termios
import time
from pathlib import Path

from benchmarks.startup import tunacode_bin
from tests.fake_llm_server import FakeLLMServer, text, usage

SIZE = (120, 40)
ESCAPES = re.compile(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[\]P_^][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
TARGETS = {"echo": 50.0, "request": 40.0, "answer": 80.0}


class Terminal:
    """A child on a pseudo-terminal of ``SIZE``; ``wait_for`` reads its output until a string shows."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        pid, fd = pty.fork()
        if pid == 0:  # the child: the real console script, as a user starts it
            os.execve(argv[0], argv, env)
        self.pid, self.fd = pid, fd
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
        self.seen = b""  # output since the last mark, escape sequences removed

    def write(self, data: bytes) -> float:
        self.seen = b""
        now = time.perf_counter()
        os.write(self.fd, data)
        return now

    def wait_for(self, needle: bytes, timeout: float = 20.0) -> float:
        """perf_counter() when a read from the terminal completed the text ``needle``."""
        deadline = time.monotonic() + timeout
        raw = b""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.fd], [], [], 0.002)
            if not ready:
                continue
            try:
                chunk = os.read(self.fd, 1 << 16)
            except OSError:
                break
            now = time.perf_counter()
            raw += chunk
            self.seen = ESCAPES.sub(b"", raw)
            if needle in self.seen:
                return now
        raise TimeoutError(f"{needle!r} did not appear within {timeout}s")

    def drain(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            ready, _, _ = select.select([self.fd], [], [], 0.01)
            if ready:
                with contextlib.suppress(OSError):
                    os.read(self.fd, 1 << 16)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.write(self.fd, b"\x11")  # Ctrl+Q
        with contextlib.suppress(TimeoutError, OSError):
            self.drain(1.0)
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, 9)
        os.waitpid(self.pid, 0)
        os.close(self.fd)


def one_run(server: FakeLLMServer, folder: Path, n: int) -> dict[str, float]:
    answer = f"PONG-{n:03d} the answer is here."
    server.add(text(answer), usage(input=20, output=8))
    marker = folder / f"frame-{n}.json"
    project = folder / "project"
    project.mkdir(exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", ""), "HOME": str(folder), "LANG": "C.UTF-8", "TERM": "xterm-256color",
        "TUNACODE_CONFIG": str(folder / "tunacode.json"), "TUNACODE_DATA_DIR": str(folder / "data"),
        "TUNACODE_FIRST_FRAME_FILE": str(marker),
    }
    terminal = Terminal([tunacode_bin(), "--cwd", str(project)], env)
    try:
        deadline = time.monotonic() + 20
        while not marker.exists() or not marker.read_text():  # the first frame: type at once, as users do
            if time.monotonic() > deadline:
                raise TimeoutError("no first frame within 20 s")
            terminal.drain(0.001)
        sent = terminal.write(b"Z")
        echo = terminal.wait_for(b"Z") - sent
        terminal.drain(1.5)  # the user types the rest of the prompt
        terminal.write(b"ping")
        terminal.drain(0.5)
        before = len(server.requests)
        sent = terminal.write(b"\r")
        shown = terminal.wait_for(answer.encode())
        request = server.requests[before].received
        return {"echo": (echo) * 1000, "request": (request - sent) * 1000, "answer": (shown - sent) * 1000}
    finally:
        terminal.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tunacode-terminal-") as tmp, FakeLLMServer() as server:
        folder = Path(tmp)
        (folder / "tunacode.json").write_text(json.dumps({
            "default_model": "openai:gpt-4.1",
            "env": {"OPENAI_API_KEY": "sk-bench", "OPENAI_BASE_URL": server.openai_base_url},
        }), encoding="utf-8")
        runs = [one_run(server, folder, n) for n in range(args.runs)]
    print(f"cores: {os.cpu_count()}  pty {SIZE[0]}x{SIZE[1]}  runs: {len(runs)} (fresh app each)  python "
          f"{sys.version.split()[0]}\n")
    print(f"{'figure (ms)':<32} {'median':>8} {'p95':>8} {'max':>8} {'target':>8}  met (median)")
    labels = {"echo": "key echo on the first screen", "request": "Enter -> request leaves",
              "answer": "prompt -> answer on screen"}
    for key, label in labels.items():
        values = sorted(run[key] for run in runs)
        median = statistics.median(values)
        p95 = values[max(0, round(0.95 * len(values)) - 1)]
        verdict = "yes" if median <= TARGETS[key] else "NO"
        print(f"{label:<32} {median:>8.1f} {p95:>8.1f} {values[-1]:>8.1f} {'<= ' + format(TARGETS[key], '.0f'):>8}"
              f"  {verdict}")
    print("\nper run:", json.dumps([{k: round(v, 1) for k, v in run.items()} for run in runs]))


if __name__ == "__main__":
    main()
