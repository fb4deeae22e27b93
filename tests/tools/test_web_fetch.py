"""web_fetch against a real HTTP server on 127.0.0.1: Markdown out, caps, redirects, refused addresses."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tunacode_tui.tools.base import ToolContext, ToolError
from tunacode_tui.tools.web_fetch import MAX_REDIRECTS, WebFetchTool

PAGE = """<!doctype html><html><head><title>Release notes</title><style>body{color:red}</style>
<script>var secret = "do not show";</script></head>
<body><h1>Version 2</h1><p>Adds <a href="/docs">docs</a> and <b>speed</b>.</p>
<ul><li>one</li><li>two</li></ul></body></html>"""


class Handler(BaseHTTPRequestHandler):
    routes: dict[str, tuple[int, dict[str, str], bytes]] = {}
    hits: list[str] = []

    def do_GET(self) -> None:
        self.hits.append(self.path)
        status, headers, body = self.routes.get(self.path, (404, {"Content-Type": "text/plain"}, b"no such page"))
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def site() -> Iterator[str]:
    Handler.hits = []
    Handler.routes = {
        "/page": (200, {"Content-Type": "text/html; charset=utf-8"}, PAGE.encode()),
        "/moved": (302, {"Location": "/page"}, b""),
        "/to-metadata": (302, {"Location": "http://169.254.169.254/latest/meta-data/"}, b""),
        "/to-google": (301, {"Location": "http://metadata.google.internal/computeMetadata/v1/"}, b""),
        "/loop": (302, {"Location": "/loop"}, b""),
        "/data.json": (200, {"Content-Type": "application/json"}, b'{"ok": true}'),
        "/image": (200, {"Content-Type": "image/png"}, b"\x89PNG..."),
        "/big": (200, {"Content-Type": "text/plain"}, b"x" * 50_000),
    }
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


async def fetch(url: str, **extra: object) -> str:
    return (await WebFetchTool().run({"url": url, **extra}, ToolContext(root=Path.cwd()))).content


async def test_html_becomes_markdown_without_scripts(site: str) -> None:
    out = await fetch(site + "/page")
    assert out.startswith(f"URL: {site}/page\nStatus: 200\nContent-Type: text/html")
    assert "# Release notes" in out and "# Version 2" in out
    assert "[docs](/docs)" in out and "**speed**" in out and "- one" in out
    assert "secret" not in out and "color:red" not in out


async def test_redirects_are_followed_and_json_is_kept(site: str) -> None:
    out = await fetch(site + "/moved")
    assert f"URL: {site}/page" in out and "# Version 2" in out
    assert (await fetch(site + "/data.json")).endswith('{"ok": true}')


@pytest.mark.parametrize("path", ["/to-metadata", "/to-google"])
async def test_a_redirect_to_a_metadata_address_is_refused(site: str, path: str) -> None:
    with pytest.raises(ToolError, match="metadata"):
        await fetch(site + path)


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/",
                                 "http://metadata.google.internal/", "http://[fe80::1]/", "file:///etc/passwd",
                                 "ftp://example.com/"])
async def test_refused_urls_never_leave_the_machine(url: str) -> None:
    with pytest.raises(ToolError, match=r"refuses|only http"):
        await fetch(url)


async def test_redirect_loops_binary_and_errors_are_tool_errors(site: str) -> None:
    with pytest.raises(ToolError, match=f"more than {MAX_REDIRECTS} redirects"):
        await fetch(site + "/loop")
    assert Handler.hits.count("/loop") == MAX_REDIRECTS + 1
    with pytest.raises(ToolError, match="image/png, not text"):
        await fetch(site + "/image")
    with pytest.raises(ToolError, match="HTTP 404"):
        await fetch(site + "/missing")


async def test_max_chars_caps_the_text(site: str) -> None:
    out = await fetch(site + "/big", max_chars=1000)
    body = out.split("\n\n", 1)[1]
    assert body.split("\n")[0] == "x" * 1000 and "49,000 more characters not shown" in body


async def test_the_address_actually_connected_to_is_checked(site: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """DNS rebinding: the name passed the first check, then resolved elsewhere when the client connected.
    Simulated by a first check that passes and a blocked list that holds where the connection really goes."""
    import ipaddress

    from tunacode_tui.tools import web_fetch

    async def passes(url: str) -> None:
        return None

    monkeypatch.setattr(web_fetch, "check_url", passes)
    monkeypatch.setattr(web_fetch, "BLOCKED_NETWORKS", [ipaddress.ip_network("127.0.0.1/32")])
    with pytest.raises(ToolError, match=r"connected to 127\.0\.0\.1"):
        await fetch(site + "/page")
    assert Handler.hits == []  # refused before a request was sent
