"""MCP server entries: the user's ``mcp_servers``, a project's ``.tunacode/mcp.json`` or ``.mcp.json``, and
``--mcp-config FILE``, all in the entry shape Claude Code's ``mcpServers`` uses, so a user's existing
entries can be pasted as they are.

Plain data and file reading only (no ``mcp`` import): start-up parses this, the servers start later.
A project's servers are code someone else chose to run on this machine, so they start only once the user
has approved that exact file (``ProjectApprovals``), or, headless, with ``--allow-project-mcp``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from tunacode_tui.config.environment import process_environment
from tunacode_tui.config.private_json import save_private_json

# Where a project's servers are read from, first found wins (``.mcp.json`` is what peers read).
PROJECT_FILES = (Path(".tunacode") / "mcp.json", Path(".mcp.json"))
DEFAULT_CALL_TIMEOUT = 120.0
DEFAULT_STARTUP_TIMEOUT = 30.0
_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
_VAR_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")

Source = Literal["user", "project", "cli"]


class McpConfigError(ValueError):
    """An MCP entry cannot be used; the message names the file, the server and what to fix."""


@dataclass(frozen=True, slots=True)
class McpServerConfig:
    """One server. ``transport`` is ``"stdio"`` (command, args, env, cwd) or ``"http"`` (url, headers)."""

    name: str
    transport: Literal["stdio", "http"]
    command: str = ""
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    cwd: str | None = None
    url: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    # True: every tool is read-only; False: none is, whatever the server's hints say; a list: these tools
    # are read-only in addition to the ones the server marks ``readOnlyHint: true``; None: the hints alone.
    read_only: bool | tuple[str, ...] | None = None
    timeout: float = DEFAULT_CALL_TIMEOUT
    startup_timeout: float = DEFAULT_STARTUP_TIMEOUT
    source: Source = "user"
    # The ``${VAR}`` names the entry uses. A project's entries are shown and kept unexpanded until the user
    # approved them: the modal lists these, so a header that would send ``${GITHUB_TOKEN}`` to a URL is seen.
    variables: tuple[str, ...] = ()

    def is_read_only(self, tool: str, hint: bool | None) -> bool:
        """How a tool is scheduled: the user's override first, then the server's ``readOnlyHint``."""
        if isinstance(self.read_only, bool):
            return self.read_only
        if self.read_only is not None and tool in self.read_only:
            return True
        return hint is True

    @property
    def target(self) -> str:
        """What the server is, for /mcp and notices: the command line or the URL."""
        return self.url if self.transport == "http" else " ".join([self.command, *self.args])


def expand_variables(value: str, environ: dict[str, str] | None = None) -> str:
    """``${VAR}`` and ``${VAR:-default}``, as Claude Code expands them, so keys stay out of the file."""
    env = process_environment() if environ is None else environ

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        found = env.get(name)
        if found:
            return found
        if default is not None:
            return default
        raise McpConfigError(f"${{{name}}} is not set")

    return _VAR_RE.sub(replace, value)


def _kept(value: str, environ: dict[str, str] | None = None) -> str:
    """``expand_variables``' stand-in for an entry not yet approved: the text as written."""
    return value


def _variables(entry: dict[str, Any]) -> tuple[str, ...]:
    texts: list[str] = []
    for key in ("command", "url", "cwd"):
        if isinstance(entry.get(key), str):
            texts.append(entry[key])
    for key in ("args",):
        if isinstance(entry.get(key), list):
            texts += [a for a in entry[key] if isinstance(a, str)]
    for key in ("env", "headers"):
        if isinstance(entry.get(key), dict):
            texts += [v for v in entry[key].values() if isinstance(v, str)]
    return tuple(dict.fromkeys(m.group(1) for t in texts for m in _VAR_RE.finditer(t)))


def _strings(value: Any, what: str, expand: Any = expand_variables) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise McpConfigError(f"{what} must map names to strings")
    return {str(k): expand(v) for k, v in value.items()}


def _seconds(entry: dict[str, Any], key: str, default: float) -> float:
    value = entry.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise McpConfigError(f"{key} must be a number of seconds above 0, got {json.dumps(value)}")
    return float(value)


def parse_server(name: str, entry: Any, source: Source = "user", *, expand: bool = True) -> McpServerConfig:
    """One ``mcpServers`` entry. Raises ``McpConfigError`` saying what is wrong (without the file).
    ``expand=False`` keeps ``${VAR}`` as written (a project's entry before the user approved it)."""
    ex = expand_variables if expand else _kept
    if not _NAME_RE.match(name):
        raise McpConfigError("server names may use letters, digits, _ and - (at most 40), "
                             "since they become part of tool names")
    if "__" in name or name.endswith("_"):
        raise McpConfigError(f"the server name {name!r} may not hold \"__\" or end in \"_\": tools are named "
                             "mcp__<server>__<tool>, so such a name could clash with another server's tools. "
                             "Rename the server")
    if not isinstance(entry, dict):
        raise McpConfigError("an entry must be a JSON object with a command or a url")
    kind = entry.get("type") or ("http" if "url" in entry else "stdio")
    if kind in ("http", "streamable-http", "streamable_http"):
        url = entry.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise McpConfigError("an http server needs a url starting with http:// or https://")
        transport: Literal["stdio", "http"] = "http"
        fields_: dict[str, Any] = {"url": ex(url), "headers": _strings(entry.get("headers"), "headers", ex)}
    elif kind == "stdio":
        command = entry.get("command")
        if not isinstance(command, str) or not command.strip():
            raise McpConfigError("a stdio server needs a command (the program to start)")
        args = entry.get("args", [])
        if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
            raise McpConfigError("args must be a list of strings")
        cwd = entry.get("cwd")
        if cwd is not None and not isinstance(cwd, str):
            raise McpConfigError("cwd must be a string")
        transport = "stdio"
        fields_ = {"command": ex(command), "args": tuple(ex(a) for a in args),
                   "env": _strings(entry.get("env"), "env", ex),
                   "cwd": (str(Path(ex(cwd)).expanduser()) if expand else cwd) if cwd else None}
    elif kind == "sse":
        raise McpConfigError('the legacy "sse" transport is not supported; use the server\'s streamable HTTP '
                             'endpoint with "type": "http"')
    else:
        raise McpConfigError(f'unknown type {json.dumps(kind)}: use "stdio" or "http"')
    read_only = entry.get("read_only")
    if isinstance(read_only, list) and all(isinstance(t, str) for t in read_only):
        read_only = tuple(read_only)
    elif read_only is not None and not isinstance(read_only, bool):
        raise McpConfigError("read_only must be true, false or a list of tool names")
    return McpServerConfig(
        name=name, transport=transport, read_only=read_only, source=source, variables=_variables(entry),
        timeout=_seconds(entry, "timeout", DEFAULT_CALL_TIMEOUT),
        startup_timeout=_seconds(entry, "startup_timeout", DEFAULT_STARTUP_TIMEOUT), **fields_,
    )


def parse_servers(data: Any, where: str, source: Source, problems: list[str], *,
                  expand: bool = True) -> dict[str, McpServerConfig]:
    """A whole ``{"name": entry, ...}`` mapping. A bad entry is skipped and described in ``problems``
    (naming ``where`` and the server): one broken server must not keep the others, or the app, from starting."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        problems.append(f"{where}: the MCP servers must be a JSON object of name → entry; none was started.")
        return {}
    servers = {}
    for name, entry in data.items():
        try:
            servers[name] = parse_server(str(name), entry, source, expand=expand)
        except McpConfigError as exc:
            problems.append(f"{where}: MCP server {name!r} was not started: {exc}. Fix or remove the entry.")
    return servers


def _read_entries(path: Path) -> tuple[Any, str]:
    """The file's ``mcpServers`` mapping and the sha256 of the very bytes it was parsed from."""
    try:
        raw = path.read_bytes()
        data = json.loads(raw.decode("utf-8") or "{}")
    except OSError as exc:
        raise McpConfigError(f"{path}: cannot be read ({exc.strerror or exc}).") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise McpConfigError(f"{path}: is not valid JSON ({exc}).") from None
    if not isinstance(data, dict):
        raise McpConfigError(f"{path}: the top level must be a JSON object with \"mcpServers\".")
    return data.get("mcpServers", data.get("mcp_servers")), hashlib.sha256(raw).hexdigest()


def read_servers_file(path: Path, source: Source, problems: list[str]) -> dict[str, McpServerConfig]:
    """A ``.mcp.json``-shaped file: ``{"mcpServers": {...}}`` (``"mcp_servers"`` is accepted too)."""
    return parse_servers(_read_entries(path)[0], str(path), source, problems)


def project_file(root: Path) -> Path | None:
    for relative in PROJECT_FILES:
        candidate = root / relative
        if candidate.is_file():
            return candidate
    return None


class ProjectApprovals:
    """The user's answers about a project's MCP file, remembered per project root and file content:
    asked once, and again only when the file changes (a changed file may start other programs)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @staticmethod
    def fingerprint(file: Path) -> str:
        return hashlib.sha256(file.read_bytes()).hexdigest()

    def _load(self) -> dict[str, Any]:
        with contextlib.suppress(OSError, json.JSONDecodeError):
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if isinstance(data, dict):
                return data
        return {}

    def decision(self, file: Path, sha256: str | None = None) -> bool | None:
        """True (approved), False (declined) or None (never asked about this content). ``sha256``: of the
        bytes the caller parsed (the file may have changed since)."""
        entry = self._load().get(str(file.resolve()))
        if not isinstance(entry, dict) or entry.get("sha256") != (sha256 or self.fingerprint(file)):
            return None
        return bool(entry.get("approved"))

    def remember(self, file: Path, approved: bool, sha256: str | None = None) -> None:
        """``sha256`` must be that of the bytes the user was shown: fingerprinting the file at answer time
        would approve whatever the file was changed to while the question was on screen."""
        data = self._load()
        data[str(file.resolve())] = {"sha256": sha256 or self.fingerprint(file), "approved": approved}
        save_private_json(self.path, data)


@dataclass(slots=True)
class ServerPlan:
    """Which servers to start now, and what the user should be told about the others."""

    servers: dict[str, McpServerConfig] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)
    # A project file waiting for the user's answer (the TUI asks; headless says how to allow it).
    pending_project: Path | None = None
    pending_servers: dict[str, McpServerConfig] = field(default_factory=dict)  # as written: ${VAR} unexpanded
    pending_entries: Any = None  # the parsed mapping, expanded only once approved (``approved_servers``)
    pending_sha256: str = ""  # of the bytes parsed and shown: what an answer is remembered for
    # The user said no to this file before: not asked again on start-up (``/mcp approve`` asks).
    declined: bool = False


def plan_servers(
    user: dict[str, McpServerConfig],
    root: Path,
    *,
    extra_file: Path | None = None,
    approvals: ProjectApprovals | None = None,
    allow_project: bool = False,
) -> ServerPlan:
    """Merge the user's servers, ``--mcp-config`` and the project's file. The user's own entries win a name
    clash (a project cannot replace a server the user configured); project servers start only if approved."""
    plan = ServerPlan(servers=dict(user))
    if extra_file is not None:  # named on the command line: a file that cannot be read is the caller's error
        plan.servers.update(read_servers_file(extra_file, "cli", plan.notices))
    found = project_file(root)
    if found is None:
        return plan
    try:
        entries, digest = _read_entries(found)
        project = parse_servers(entries, str(found), "project", plan.notices, expand=False)
    except McpConfigError as exc:
        plan.notices.append(f"{exc} The project's MCP servers were not started.")
        return plan
    clashes = sorted(set(project) & set(plan.servers))
    if clashes:
        plan.notices.append(f"{found}: {', '.join(clashes)} already configured by you; the project's entries "
                            "of the same name are ignored.")
    project = {name: server for name, server in project.items() if name not in plan.servers}
    if not project:
        return plan
    decision = True if allow_project else (approvals.decision(found, digest) if approvals else None)
    plan.pending_project, plan.pending_servers, plan.declined = found, project, decision is False
    plan.pending_entries, plan.pending_sha256 = entries, digest
    if decision:
        plan.servers.update(approved_servers(plan))
        plan.pending_project, plan.pending_servers, plan.pending_entries = None, {}, None
        return plan
    if plan.declined:
        plan.notices.append(f"{found}: you declined this project's MCP servers ({', '.join(project)}); they "
                            "were not started. In the app, /mcp approve asks again.")
    return plan


def approved_servers(plan: ServerPlan) -> dict[str, McpServerConfig]:
    """The pending project servers with ``${VAR}`` expanded, from the entries that were parsed and shown (the
    file is not read again). An entry whose variable is unset is skipped with a notice in ``plan.notices``."""
    if plan.pending_project is None:
        return {}
    problems: list[str] = []
    servers = parse_servers(plan.pending_entries, str(plan.pending_project), "project", problems)
    plan.notices += [p for p in problems if p not in plan.notices]  # the first reading reported the rest
    return {name: server for name, server in servers.items() if name in plan.pending_servers}
