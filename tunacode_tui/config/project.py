"""The permission rules the user granted for a project, kept OUTSIDE the project.

The dialog's "always" for a bash command (``bash(git status:*)``) is remembered in the data folder,
``permissions.json`` (0600, written atomically), keyed by the resolved project root. It is never kept in the
project itself: anything inside a repository comes with the repository, so a cloned repo (or a pull request run
headless in CI) could otherwise grant the model ``bash`` or ``write_file`` without a question.

For the same reason the project's own ``.tunacode/settings.json`` is not a source of permission rules: an
``allowed_tools`` list there is ignored, with a warning saying where granted rules live now.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tunacode_tui.config.private_json import save_private_json
from tunacode_tui.core.permission_rules import RuleError, parse_rule

PROJECT_DIR = ".tunacode"
PROJECT_SETTINGS = "settings.json"
PERMISSIONS_FILE = "permissions.json"


def project_settings_path(root: Path) -> Path:
    return root / PROJECT_DIR / PROJECT_SETTINGS


def permissions_path() -> Path:
    """Where granted rules live: the user's data folder, never the project (lazy: the env var may change)."""
    from tunacode_tui.config.paths import data_dir

    return data_dir() / PERMISSIONS_FILE


def _key(root: Path) -> str:
    return str(root.resolve())


def _read(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    data = json.loads(text) if text.strip() else {}
    if not isinstance(data, dict):
        raise ValueError("the top level must be a JSON object")
    return data


def _repo_file_warning(root: Path) -> list[str]:
    path = project_settings_path(root)
    try:
        data = _read(path)
    except (OSError, UnicodeDecodeError, ValueError):
        return []  # nothing is taken from this file, so there is nothing to report about it
    if "allowed_tools" not in data:
        return []
    return [f"{path}: allowed_tools in a project file is ignored: a repository must not grant itself tool "
            f"permissions. Allow a command with the dialog's \"always\" (kept outside the project, in "
            f"{permissions_path()}) or put rules in your own settings.allowed_tools."]


def read_project_rules(root: Path) -> tuple[list[str], list[str]]:
    """The rules the user granted for this project and, for anything unusable, a warning naming the file and
    what to do. No file is no rules and no warning."""
    warnings = _repo_file_warning(root)
    path = permissions_path()
    try:
        data = _read(path)
    except FileNotFoundError:
        return [], warnings
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return [], [*warnings, f"{path}: cannot be read ({exc}); the permission rules saved there are not used. "
                               "Fix or delete it."]
    entry = data.get(_key(root), [])
    if not isinstance(entry, list):
        return [], [*warnings, f"{path}: the entry for {_key(root)} must be a list of rules like "
                               "\"bash(git status:*)\"; it is ignored."]
    rules: list[str] = []
    for item in entry:
        try:
            rules.append(str(parse_rule(str(item))))
        except RuleError as exc:
            warnings.append(f"{path}: {exc} It is ignored.")
    return rules, warnings


def add_project_rule(root: Path, rule: str) -> Path:
    """Remember ``rule`` for this project in the data folder. Raises ``OSError`` when the file cannot be
    written and ``ValueError`` when the existing file is not valid JSON (it is never overwritten then)."""
    path = permissions_path()
    try:
        data = _read(path)
    except FileNotFoundError:
        data = {}
    key = _key(root)
    rules = data.get(key)
    rules = list(rules) if isinstance(rules, list) else []
    if rule not in rules:
        rules.append(rule)
    data[key] = rules
    return save_private_json(path, data)
