"""A streamable-HTTP MCP server (the SDK's own, served in this process on 127.0.0.1) driven through
``tunacode -p``: the same scheduling as stdio servers, headers from the entry (with ``${VAR}`` expanded)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fake_llm_server import FakeLLMServer, text, tool_call
from tests.mcp.helpers import write_servers
from tests.mcp.sample_server import build
from tests.test_headless import records, run_cli


@pytest.fixture
def http_server() -> Iterator[tuple[str, list[dict[str, str]]]]:
    """The test server over streamable HTTP; yields its URL and the headers of every request it got."""
    import uvicorn

    seen: list[dict[str, str]] = []
    app = build().streamable_http_app()

    async def recording(scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] == "http":
            seen.append({k.decode(): v.decode() for k, v in scope["headers"]})
        await app(scope, receive, send)

    server = uvicorn.Server(uvicorn.Config(recording, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the HTTP MCP server did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}/mcp", seen
    server.should_exit = True
    thread.join(timeout=10)


def test_http_server_tools_run_in_the_batch_and_writes_are_refused(
    llm_server: FakeLLMServer, http_server: tuple[str, list[dict[str, str]]], tmp_path: Path
) -> None:
    url, seen = http_server
    root = tmp_path / "proj"
    root.mkdir()
    (root / "a.txt").write_text("alpha\n")
    config = write_servers(tmp_path / "mcp.json", {
        "web": {"type": "http", "url": url, "headers": {"Authorization": "Bearer ${TUNA_TEST_TOKEN}"}},
    })
    llm_server.add(
        tool_call("mcp__web__echo", {"text": "over http"}),
        tool_call("mcp__web__slow", {"seconds": 0.3}),
        tool_call("read_file", {"file_path": "a.txt"}),
        tool_call("mcp__web__unannotated", {"value": 21}),
    )
    llm_server.add(text("Done."))
    proc = run_cli(llm_server, root, tmp_path, "-p", "go", "--output-format", "stream-json", "--max-parallel", "4",
                   "--mcp-config", str(config), env={"TUNA_TEST_TOKEN": "s3cret"})
    assert proc.returncode == 0, proc.stderr
    recs = records(proc.stdout)
    [status] = [r for r in recs if r["type"] == "mcp_status"]
    assert status["state"] == "ready" and status["transport"] == "http"
    batches = [r for r in recs if r["type"] == "batch_end"]
    assert [b["size"] for b in batches] == [3, 1]  # three read-only calls together, the unannotated one alone
    assert [r["name"] for r in recs if r["type"] == "permission_refused"] == ["mcp__web__unannotated"]
    results = [m["content"] for m in llm_server.requests[1].body["messages"] if m["role"] == "tool"]
    assert results[0] == "over http" and results[1] == "slept 0.3s" and "alpha" in results[2]
    assert "refused" in results[3]
    assert any(h.get("authorization") == "Bearer s3cret" for h in seen)
