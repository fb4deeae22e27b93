"""The session package is core: importing all of it must not pull in Textual."""

from __future__ import annotations

import subprocess
import sys

MODULES = ["journal", "store", "analytics", "export", "redact"]


def test_session_modules_import_without_textual() -> None:
    code = "\n".join(f"import tunacode_tui.session.{m}" for m in MODULES)
    code += "\nimport sys\nassert 'textual' not in sys.modules, 'textual was imported'"
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
