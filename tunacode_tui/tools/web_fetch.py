"""web_fetch: read a web page (docs, an issue, a changelog) as Markdown.

Read-only, so it joins parallel batches. Bounded everywhere: http(s) only, at most ``MAX_REDIRECTS`` hops,
``MAX_BYTES`` of body, ``TIMEOUT_S`` for the whole fetch, ``MAX_OUTPUT_CHARS`` of text. Every hop's host is
resolved and refused when it is link-local or a cloud metadata endpoint (where a prompt-injected URL could
read instance credentials); loopback and private networks stay allowed, since local docs servers are a
normal thing to read. The client resolves the name again when it connects, so a DNS answer that changes in
between (rebinding) would slip past that first check: the address actually connected to is checked too, right
after the connect and before a byte is sent (``_PeerCheckingBackend``). Through a proxy (``HTTPS_PROXY``) the
peer is the proxy, which resolves the name itself; only the first check applies then.

HTML is converted with markdownify: maintained, MIT licensed (html2text is GPL), and built on
BeautifulSoup, so broken real-world HTML still parses and script/style can be dropped before conversion.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Any
from urllib.parse import urljoin, urlsplit

from tunacode_tui.tools.args import get_int, require_str
from tunacode_tui.tools.base import Tool, ToolContext, ToolError, ToolOutput
from tunacode_tui.tools.bash import MAX_OUTPUT_CHARS

MAX_REDIRECTS = 5
MAX_BYTES = 2 * 1024 * 1024
TIMEOUT_S = 30.0
DEFAULT_CHARS = 20_000
USER_AGENT = "tunacode-web-fetch (+https://pypi.org/project/tunacode-tui/)"

BLOCKED_HOSTS = {"metadata.google.internal", "metadata.goog", "metadata", "instance-data",
                 "instance-data.ec2.internal"}
BLOCKED_NETWORKS = [
    ipaddress.ip_network("169.254.0.0/16"),  # IPv4 link-local: AWS, GCP, Azure, OpenStack metadata
    ipaddress.ip_network("fe80::/10"),  # IPv6 link-local
    ipaddress.ip_network("fd00:ec2::254/128"),  # AWS metadata over IPv6
    ipaddress.ip_network("100.100.100.200/32"),  # Alibaba Cloud metadata
    ipaddress.ip_network("0.0.0.0/8"),  # "this host": reaches local services by another name
]
_DROPPED_TAGS = ("script", "style", "noscript", "template", "svg", "iframe", "head")
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/xhtml", "application/javascript",
               "application/x-yaml", "application/yaml", "application/toml")


def _blocked_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in BLOCKED_NETWORKS)


async def check_url(url: str) -> None:
    """Refuse what web_fetch must not reach; raises ``ToolError`` saying why."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ToolError(f"only http and https URLs can be fetched, not {parts.scheme or 'a bare path'!r}.")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise ToolError(f"{url!r} has no host.")
    if host in BLOCKED_HOSTS:
        raise ToolError(f"{host} is a cloud metadata endpoint; web_fetch refuses it.")
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, parts.port or 443, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ToolError(f"cannot resolve {host}: {exc.strerror or exc}.") from None
    for info in infos:
        address = str(info[4][0])
        if _blocked_address(address):
            raise ToolError(f"{host} resolves to {address}, a link-local or cloud metadata address; web_fetch "
                            "refuses it.")


def _peer_checking_backend(inner: Any) -> Any:
    """An httpcore network backend that refuses a connection whose peer is a blocked address, checked on the
    connected socket itself, so no second DNS answer can differ from what is checked."""
    import httpcore2

    class _PeerCheckingBackend(httpcore2.AsyncNetworkBackend):
        async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                              local_address: str | None = None, socket_options: Any = None) -> Any:
            stream = await inner.connect_tcp(host, port, timeout=timeout, local_address=local_address,
                                             socket_options=socket_options)
            peer = stream.get_extra_info("server_addr")
            if peer and _blocked_address(str(peer[0])):
                await stream.aclose()
                raise ToolError(f"{host} connected to {peer[0]}, a link-local or cloud metadata address (its DNS "
                                "answer changed after the check); web_fetch refuses it.")
            return stream

        async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                      socket_options: Any = None) -> Any:  # pragma: no cover - never configured
            return await inner.connect_unix_socket(path, timeout=timeout, socket_options=socket_options)

        async def sleep(self, seconds: float) -> None:
            await inner.sleep(seconds)

    return _PeerCheckingBackend()


def _check_peers(client: Any) -> None:
    """Put the peer check under the client's direct (no proxy) connections. httpx exposes no public hook
    for the network backend, hence the private attributes; tests/tools/test_web_fetch.py fails if they move."""
    pool = getattr(getattr(client, "_transport", None), "_pool", None)
    if pool is not None and hasattr(pool, "_network_backend"):
        pool._network_backend = _peer_checking_backend(pool._network_backend)


def html_to_markdown(html: str) -> str:
    from bs4 import BeautifulSoup
    from markdownify import ATX, MarkdownConverter

    soup = BeautifulSoup(html, "html.parser")
    title = soup.title.get_text(strip=True) if soup.title else ""
    for tag in soup(_DROPPED_TAGS):
        tag.decompose()
    body = MarkdownConverter(heading_style=ATX, bullets="-").convert_soup(soup)
    lines = [line.rstrip() for line in body.splitlines()]
    text = "\n".join(lines)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return (f"# {title}\n\n" if title else "") + text.strip()


class WebFetchTool(Tool):
    name = "web_fetch"
    description = (
        "Fetch a web page over http(s) and return it as Markdown (HTML converted; text and JSON as they are). "
        f"Follows up to {MAX_REDIRECTS} redirects; reads at most {MAX_BYTES // 1024 // 1024} MB in "
        f"{TIMEOUT_S:g}s. Use it for documentation, issues and changelogs the user points to."
    )
    parameters = {
        "type": "object",
        "properties": {
            "url": {"type": "string", "description": "The http:// or https:// URL to read."},
            "max_chars": {
                "type": "integer",
                "description": f"Most characters of the page to return (default {DEFAULT_CHARS}, "
                               f"max {MAX_OUTPUT_CHARS}).",
                "minimum": 100,
                "maximum": MAX_OUTPUT_CHARS,
            },
        },
        "required": ["url"],
        "additionalProperties": False,
    }
    read_only = True

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        url = require_str(args, "url", allow_empty=False).strip()
        limit = get_int(args, "max_chars", DEFAULT_CHARS, minimum=100, maximum=MAX_OUTPUT_CHARS)
        try:
            async with asyncio.timeout(TIMEOUT_S):
                final, status, kind, body, cut = await self._fetch(url)
        except TimeoutError:
            raise ToolError(f"{url} did not finish loading within {TIMEOUT_S:g}s.") from None
        text = html_to_markdown(body) if "html" in kind else body
        note = f"\n… [page cut at {MAX_BYTES // 1024 // 1024} MB]" if cut else ""
        if len(text) > limit:
            note = f"\n… [{len(text) - limit:,} more characters not shown; raise max_chars to see more]"
            text = text[:limit]
        header = f"URL: {final}\nStatus: {status}\nContent-Type: {kind or 'unknown'}\n\n"
        return ToolOutput(header + text + note, metadata={"url": final, "status": status})

    async def _fetch(self, url: str) -> tuple[str, int, str, str, bool]:
        import httpx2

        async with httpx2.AsyncClient(follow_redirects=False, timeout=TIMEOUT_S,
                                      headers={"User-Agent": USER_AGENT}) as client:
            _check_peers(client)
            for _ in range(MAX_REDIRECTS + 1):
                await check_url(url)  # every hop: a redirect must not lead somewhere the first URL could not
                try:
                    async with client.stream("GET", url) as response:
                        if response.is_redirect and "location" in response.headers:
                            url = urljoin(str(response.url), response.headers["location"])
                            continue
                        kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
                        if kind and not kind.startswith(_TEXT_TYPES) and "+xml" not in kind and "json" not in kind:
                            raise ToolError(f"{url} is {kind}, not text; web_fetch only reads text and HTML.")
                        chunks: list[bytes] = []
                        size, cut = 0, False
                        async for chunk in response.aiter_bytes():
                            chunks.append(chunk)
                            size += len(chunk)
                            if size >= MAX_BYTES:
                                cut = True
                                break
                        raw = b"".join(chunks)[:MAX_BYTES]
                        text = raw.decode(response.encoding or "utf-8", errors="replace")
                        if response.status_code >= 400:
                            raise ToolError(f"{url} answered HTTP {response.status_code} "
                                            f"{response.reason_phrase}: {text[:300]}")
                        return str(response.url), response.status_code, kind, text, cut
                except httpx2.HTTPError as exc:
                    raise ToolError(f"fetching {url} failed: {type(exc).__name__}: {exc}") from None
            raise ToolError(f"more than {MAX_REDIRECTS} redirects, stopped at {url}.")
