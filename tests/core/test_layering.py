"""The core runs without Textual, and start-up paths import no provider SDK."""

from __future__ import annotations

import subprocess
import sys

CORE = [
    "tunacode_tui.config", "tunacode_tui.core.messages", "tunacode_tui.providers.catalog",
    "tunacode_tui.providers.registry", "tunacode_tui.agent.loop", "tunacode_tui.agent.executor",
    "tunacode_tui.agent.factory", "tunacode_tui.tools.registry", "tunacode_tui.agent.accounting",
    "tunacode_tui.headless",
]


def _imported(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys; print(' '.join(sys.modules))"],
                         capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_core_imports_without_textual() -> None:
    modules = _imported("\n".join(f"import {m}" for m in CORE))
    assert "textual" not in modules
    assert "openai" not in modules and "anthropic" not in modules


def test_cli_imports_nothing_heavy() -> None:
    modules = _imported("import tunacode_tui.cli")
    assert not {"textual", "openai", "anthropic", "tiktoken"} & modules


def test_version_runs_without_sdks() -> None:
    code = ("import sys\nfrom tunacode_tui.cli import main\n"
            "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
            "assert not {'textual','openai','anthropic'} & set(sys.modules), sorted(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
