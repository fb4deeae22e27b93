"""Which MCP servers a run starts, and how their state reads to a person: shared by headless mode and the TUI,
so both say the same thing about the same server."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from tunacode_tui.config.mcp import McpServerConfig, ProjectApprovals, ServerPlan, approved_servers, plan_servers
from tunacode_tui.config.settings import Config
from tunacode_tui.tools.mcp.manager import ServerStatus


def approvals() -> ProjectApprovals:
    from tunacode_tui.config.paths import data_dir

    return ProjectApprovals(data_dir() / "mcp-approvals.json")


def plan_for(config: Config, root: Path, *, extra_file: Path | None = None, allow_project: bool = False) -> ServerPlan:
    """The servers to start now. Raises ``McpConfigError`` when ``extra_file`` (``--mcp-config``) cannot be read."""
    plan = plan_servers(config.mcp_servers, root, extra_file=extra_file, approvals=approvals(),
                        allow_project=allow_project)
    plan.notices[:0] = config.mcp_problems
    return plan


def answer_project(plan: ServerPlan, approved: bool) -> tuple[dict[str, McpServerConfig], list[str]]:
    """The user answered about the pending project file: remember the answer for the bytes that were shown
    (not the file as it is now) and, if yes, the servers to start, ``${VAR}`` expanded only now, with any
    notices that expansion raised."""
    if plan.pending_project is None:
        return {}, []
    approvals().remember(plan.pending_project, approved, plan.pending_sha256 or None)
    plan.declined = not approved
    if not approved:
        return {}, []
    before = len(plan.notices)
    servers = approved_servers(plan)
    plan.pending_project, plan.pending_servers, plan.pending_entries = None, {}, None
    return servers, plan.notices[before:]


def status_notice(status: ServerStatus) -> tuple[Literal["info", "warning"], str] | None:
    """What a state change tells the user, or None when it needs no word (starting, stopped)."""
    if status.state == "ready":
        read_only = sum(ro for _, ro in status.tools)
        took = f" in {status.started_in:.1f}s" if status.started_in is not None else ""
        return "info", (f"MCP server {status.name} ready{took}: {len(status.tools)} tools, {read_only} read-only "
                        "(/mcp lists them).")
    if status.state == "failed":
        return "warning", (f"MCP server {status.name} ({status.target}) failed: {status.error}\n"
                           "Its tools are unavailable; the chat works without them. Check the entry, then restart.")
    return None


def project_pending_text(plan: ServerPlan) -> str:
    names = ", ".join(plan.pending_servers)
    return (f"{plan.pending_project} defines MCP servers ({names}) that were not started: headless mode starts a "
            "project's servers only with --allow-project-mcp (or approve them once in the app).")


def status_table(statuses: list[ServerStatus]) -> str:
    """``/mcp``: one row per server, then each server's tools and whether they run in parallel batches."""
    if not statuses:
        return ("No MCP servers are configured. Add one under \"mcp_servers\" in tunacode.json, or in the "
                "project's .mcp.json (see the README).")
    lines = ["### MCP servers", "", "| Server | State | Source | Tools | Command or URL |",
             "| --- | --- | --- | ---: | --- |"]
    for s in statuses:
        lines.append(f"| {s.name} | {s.state} | {s.source} | {len(s.tools)} | `{s.target}` |")
    for s in statuses:
        if s.tools:
            tools = ", ".join(f"`{name}`" + (" (read-only)" if ro else "") for name, ro in s.tools)
            lines += ["", f"**{s.name}**: {tools}"]
        if s.error:
            lines += ["", f"**{s.name}** last error: {s.error}"]
    lines += ["", "Read-only tools run in parallel batches with read_file and grep; the others ask first."]
    return "\n".join(lines)
