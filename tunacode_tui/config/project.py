"""The project's own settings: ``.tunacode/settings.json`` in the project root.

It holds what a user decided for this project only, today the permission rules the dialog's "always" choice
remembers (``{"allowed_tools": ["bash(git status:*)"]}``). It is read when an agent opens on the project and
written atomically, keeping any other keys it holds.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from tunacode_tui.core.permission_rules import RuleError, parse_rule

PROJECT_DIR = ".tunacode"
PROJECT_SETTINGS = "settings.json"


def project_settings_path(root: Path) -> Path:
    return root / PROJECT_DIR / PROJECT_SETTINGS


def _read(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    data = json.loads(text) if text.strip() else {}
    if not isinstance(data, dict):
        raise ValueError("the top level must be a JSON object")
    return data


def read_project_rules(root: Path) -> tuple[list[str], list[str]]:
    """The project's permission rules and, for anything unusable, a warning naming the file and what to do.
    A missing file is no rules and no warning."""
    path = project_settings_path(root)
    try:
        data = _read(path)
    except FileNotFoundError:
        return [], []
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return [], [f"{path}: cannot be read ({exc}); its permission rules are not used. Fix or delete it."]
    raw = data.get("allowed_tools", [])
    if not isinstance(raw, list):
        return [], [f"{path}: allowed_tools must be a list of rules like \"bash(git status:*)\"; it is ignored."]
    rules: list[str] = []
    warnings: list[str] = []
    for item in raw:
        try:
            rules.append(str(parse_rule(str(item))))
        except RuleError as exc:
            warnings.append(f"{path}: {exc} It is ignored.")
    return rules, warnings


def add_project_rule(root: Path, rule: str) -> Path:
    """Remember ``rule`` for this project. Raises ``OSError`` when the file cannot be written and
    ``ValueError`` when the existing file is not valid JSON (it is never overwritten then)."""
    path = project_settings_path(root)
    try:
        data = _read(path)
    except FileNotFoundError:
        data = {}
    rules = data.get("allowed_tools")
    rules = list(rules) if isinstance(rules, list) else []
    if rule not in rules:
        rules.append(rule)
    data["allowed_tools"] = rules
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".settings-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path
