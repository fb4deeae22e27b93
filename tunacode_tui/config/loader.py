"""Loading and saving ``tunacode.json``: env wins over the file, errors name the file and line,
and the file is written atomically with mode 0600 and never silently overwritten."""

from __future__ import annotations

import contextlib
import difflib
import json
import os
import re
from collections.abc import Iterable
from dataclasses import fields
from pathlib import Path
from typing import Any

from tunacode_tui.config.paths import config_file
from tunacode_tui.config.private_json import save_private_json
from tunacode_tui.config.settings import Config, Settings
from tunacode_tui.core.permission_rules import RuleError, parse_rule


class ConfigError(Exception):
    """The config file cannot be used. The message names the file (and line) and what to do."""




_MAY_BE_ZERO = {"max_retries"}
# Smallest window a conversation can run in (the system prompt and tool schemas alone are ~2k tokens).
MIN_CONTEXT_WINDOW = 1024
# (exclusive lower bound, inclusive upper bound or None, how to say it)
_FLOAT_RANGES: dict[str, tuple[float, float | None, str]] = {
    "request_timeout": (0.0, None, "a number of seconds greater than 0, e.g. 120"),
    "auto_compact_threshold": (0.0, 1.0, "a fraction above 0 and at most 1, e.g. 0.85"),
}


def _coerce_setting(name: str, value: Any, expected: Any, path: Path) -> Any:
    kind = type(expected) if expected is not None else None
    if name == "reasoning":
        if value is None or value in ("low", "medium", "high"):
            return value
        raise ConfigError(
            f'{path}: settings.reasoning must be "low", "medium", "high" or null, got {json.dumps(value)}.'
        )
    if name in {"context_window", "max_response_tokens"}:
        if value is None:
            return None
        kind = int
    if name == "context_window" and isinstance(value, int) and not isinstance(value, bool) \
            and value < MIN_CONTEXT_WINDOW:
        raise ConfigError(
            f"{path}: settings.context_window is {value} tokens, too small to hold a conversation (at least "
            f"{MIN_CONTEXT_WINDOW}). Set the model's real window, or null to use the catalog's."
        )
    if kind is bool:
        if isinstance(value, bool):
            return value
    elif kind is int:
        minimum = 0 if name in _MAY_BE_ZERO else 1
        if isinstance(value, int) and not isinstance(value, bool) and value >= minimum:
            return value
    elif kind is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            low, high, wanted = _FLOAT_RANGES.get(name, (float("-inf"), None, ""))
            if value > low and (high is None or value <= high) and value == value:  # NaN fails too
                return float(value)
            raise ConfigError(f"{path}: settings.{name} must be {wanted}, got {json.dumps(value)}. Fix or remove it.")
    elif kind is list:
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
    else:
        return value
    bound = (" ≥ 0" if name in _MAY_BE_ZERO else " ≥ 1") if kind is int else ""
    raise ConfigError(
        f"{path}: settings.{name} must be {kind.__name__ if kind else 'a value'}{bound}, "
        f"got {json.dumps(value)}. Fix or remove it."
    )


def parse_config(text: str, path: Path) -> Config:
    try:
        data = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{path}: line {exc.lineno}, column {exc.colno}: {exc.msg}. "
            "Fix the JSON (the file was left untouched)."
        ) from None
    except RecursionError:
        raise ConfigError(
            f"{path}: the JSON is nested too deeply to read (thousands of levels); a config needs three. "
            "Fix the file (it was left untouched)."
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a JSON object.")
    config = Config()
    model = data.get("default_model")
    if model is not None and not isinstance(model, str):
        raise ConfigError(f"{path}: default_model must be a string like 'openai:gpt-4.1'.")
    config.default_model = model or None
    env = data.get("env", {}) or {}
    if not isinstance(env, dict) or not all(isinstance(v, str) for v in env.values()):
        raise ConfigError(f"{path}: env must map variable names to strings.")
    config.env = {str(k): v for k, v in env.items()}
    raw_settings = data.get("settings", {}) or {}
    if not isinstance(raw_settings, dict):
        raise ConfigError(f"{path}: settings must be a JSON object.")
    defaults = Settings()
    known = {f.name for f in fields(Settings)}
    settings_at = _key_offset(text, "settings")
    for name, value in raw_settings.items():
        if name not in known:
            # Kept in the file (a newer version may know it) but said out loud: a typo must not pass silently.
            where = _where(path, text, name, settings_at)
            if name in TOP_LEVEL_KEYS:
                config.warnings.append(f"{where}: settings.{name} belongs at the top level of the file, not "
                                       "under settings; it is ignored there. Move it up.")
            else:
                config.warnings.append(f"{where}: settings.{name} is not a setting{_did_you_mean(name, known)}; "
                                       "it is ignored. Fix or remove it.")
            continue
        setattr(config.settings, name, _coerce_setting(name, value, getattr(defaults, name), path))
        config.sources[f"settings.{name}"] = "file"
    for name, value in data.items():
        if name in TOP_LEVEL_KEYS:
            continue
        where = _where(path, text, name)
        if name in known:
            # The seed's shape (context_window, max_iterations... at the top): honoured, with a pointer.
            if name in raw_settings:
                config.warnings.append(f"{where}: {name} at the top level is ignored: settings.{name} is set too "
                                       "and wins. Remove the top-level one.")
                continue
            setattr(config.settings, name, _coerce_setting(name, value, getattr(defaults, name), path))
            config.sources[f"settings.{name}"] = "file"
            config.warnings.append(f"{where}: {name} belongs under settings (settings.{name}); it was applied "
                                   "this time. Move it there.")
        else:
            config.warnings.append(f"{where}: {name} is not a config key{_did_you_mean(name, TOP_LEVEL_KEYS)}; it "
                                   f"is ignored. The file holds {', '.join(sorted(TOP_LEVEL_KEYS))}.")
    for rule in config.settings.allowed_tools:
        try:
            parse_rule(rule)
        except RuleError as exc:
            config.warnings.append(f"{_where(path, text, 'allowed_tools', settings_at)}: {exc} It is ignored.")
    if "mcp_servers" in data:
        from tunacode_tui.config.mcp import parse_servers

        config.mcp_servers = parse_servers(data["mcp_servers"], str(path), "user", config.mcp_problems)
    return config


TOP_LEVEL_KEYS = frozenset({"default_model", "env", "settings", "mcp_servers"})


def _key_offset(text: str, name: str, start: int = 0) -> int:
    """Where ``"name":`` first appears at or after ``start`` (-1 when absent): enough to name a line."""
    match = re.compile(r'"' + re.escape(name) + r'"\s*:').search(text, start)
    return match.start() if match else -1


def _where(path: Path, text: str, name: str, start: int = 0) -> str:
    offset = _key_offset(text, name, max(start, 0))
    if offset < 0:
        offset = _key_offset(text, name)
    return f"{path}:{text.count(chr(10), 0, offset) + 1}" if offset >= 0 else str(path)


def _did_you_mean(name: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, sorted(candidates), n=1, cutoff=0.75)
    return f" (did you mean {close[0]}?)" if close else ""


def apply_environment(config: Config) -> Config:
    """Environment variables that override settings; keys are looked up live by ``Config.lookup``."""
    raw = os.environ.get("TUNACODE_MAX_PARALLEL")
    if raw:
        try:
            value = int(raw)
            if value < 1:
                raise ValueError
        except ValueError:
            raise ConfigError(f"TUNACODE_MAX_PARALLEL must be a whole number ≥ 1, got {raw!r}.") from None
        config.settings.max_parallel = value
        config.sources["settings.max_parallel"] = "env"
    return config


def load_config(path: Path | None = None) -> Config:
    path = path or config_file()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return apply_environment(Config())
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror}).") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: is not UTF-8 text.") from None
    return apply_environment(parse_config(text, path))


def save_config(config: Config, path: Path | None = None) -> Path:
    """Write atomically with 0600. Refuses to replace a file that does not parse, so a user's
    hand-edited but broken file is never silently lost."""
    path = path or config_file()
    if path.exists():
        with contextlib.suppress(OSError):
            parse_config(path.read_text(encoding="utf-8"), path)  # raises ConfigError if broken
        existing: dict[str, Any] = {}
        with contextlib.suppress(OSError, json.JSONDecodeError):
            loaded = json.loads(path.read_text(encoding="utf-8") or "{}")
            existing = loaded if isinstance(loaded, dict) else {}
    else:
        existing = {}
    data = {**existing, **config.to_file_dict()}
    if isinstance(existing.get("settings"), dict):  # keep settings we do not know of
        data["settings"] = {**existing["settings"], **config.settings.to_dict()}
    # A value set for this run only (--max-parallel, TUNACODE_MAX_PARALLEL) is not the user's saved choice:
    # keep what the file had, or leave the setting out.
    saved = existing.get("settings")
    old_settings: dict[str, Any] = saved if isinstance(saved, dict) else {}
    for source_key, source in config.sources.items():
        name = source_key.removeprefix("settings.")
        if source in ("env", "cli") and source_key.startswith("settings."):
            if name in old_settings:
                data["settings"][name] = old_settings[name]
            else:
                data["settings"].pop(name, None)
    return save_private_json(path, data)
