"""The core runs without Textual, and start-up paths import no provider SDK."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

CORE = [
    "tunacode_tui.config", "tunacode_tui.core.messages", "tunacode_tui.providers.catalog",
    "tunacode_tui.providers.registry", "tunacode_tui.agent.loop", "tunacode_tui.agent.executor",
    "tunacode_tui.agent.factory", "tunacode_tui.tools.registry", "tunacode_tui.agent.accounting",
    "tunacode_tui.headless", "tunacode_tui.agent.mcp_servers",
    "tunacode_tui.tools.mcp.manager", "tunacode_tui.tools.mcp.tool", "tunacode_tui.config.mcp",
    "tunacode_tui.tools.web_fetch",
]
# Heavy libraries imported only where first used: never by start-up or by the layers' import.
HEAVY = {"openai", "anthropic", "mcp", "httpx2", "markdownify", "bs4"}


def _imported(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys; print(' '.join(sys.modules))"],
                         capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_core_imports_without_textual() -> None:
    modules = _imported("\n".join(f"import {m}" for m in CORE))
    assert "textual" not in modules
    assert not HEAVY & modules, HEAVY & modules


def test_cli_imports_nothing_heavy() -> None:
    modules = _imported("import tunacode_tui.cli")
    assert not {"textual", "tiktoken", *HEAVY} & modules


def test_version_runs_without_sdks(tmp_path: Path) -> None:
    """Also with MCP servers configured: they start with the chat, never for --version or --help."""
    config = tmp_path / "tunacode.json"
    config.write_text(json.dumps({"mcp_servers": {"time": {"command": sys.executable,
                                                           "args": ["-m", "mcp_server_time"]}}}))
    for flag in ("--version", "--help"):
        code = ("import sys\nfrom tunacode_tui.cli import main\n"
                f"try:\n    main([{flag!r}])\nexcept SystemExit:\n    pass\n"
                f"assert not {{'textual', *{sorted(HEAVY)!r}}} & set(sys.modules), sorted(sys.modules)")
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                       env={**os.environ, "TUNACODE_CONFIG": str(config)})


def test_mcp_is_imported_by_the_connection_module_alone() -> None:
    """The ``mcp`` SDK enters the process only when a server starts (tools/mcp/connection.py)."""
    root = Path(__file__).resolve().parents[2] / "tunacode_tui"
    importers = sorted(str(p.relative_to(root)) for p in root.rglob("*.py")
                       if any(line.strip().startswith(("import mcp", "from mcp ", "from mcp.", "from mcp_types"))
                              for line in p.read_text().splitlines()))
    assert importers == ["tools/mcp/connection.py"]


def test_core_imports_only_the_standard_library_and_itself() -> None:
    """The contract in pyproject.toml names a few packages; this checks every import of core/ statically."""
    import ast
    from pathlib import Path

    import tunacode_tui.core

    allowed = set(sys.stdlib_module_names) | {"__future__"}
    for path in Path(tunacode_tui.core.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            for name in names:
                top = name.split(".")[0]
                assert top in allowed or name.startswith("tunacode_tui.core"), f"{path.name} imports {name}"
