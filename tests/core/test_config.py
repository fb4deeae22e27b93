"""Config precedence (environment over file over defaults), malformed files, and safe saving."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from tunacode_tui.config import ConfigError, load_config, save_config
from tunacode_tui.config.settings import Config, default_max_parallel

ENV = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENROUTER_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL",
       "OPENROUTER_BASE_URL",
       "TUNACODE_MODEL", "TUNACODE_MAX_PARALLEL")


@pytest.fixture
def cfg_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for var in ENV:
        monkeypatch.delenv(var, raising=False)
    path = tmp_path / "conf" / "tunacode.json"
    monkeypatch.setenv("TUNACODE_CONFIG", str(path))
    return path


def test_defaults_without_a_file(cfg_path: Path) -> None:
    config = load_config()
    assert config.settings.max_iterations == 40
    assert config.settings.enable_streaming is True
    assert config.settings.max_parallel == default_max_parallel()
    assert not config.has_any_key()


def test_environment_wins_over_the_file(cfg_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg_path.parent.mkdir(parents=True)
    cfg_path.write_text(json.dumps({
        "default_model": "openai:gpt-4.1",
        "env": {"OPENAI_API_KEY": "from-file", "ANTHROPIC_API_KEY": "file-anthropic"},
        "settings": {"max_parallel": 3, "max_iterations": 7},
    }))
    monkeypatch.setenv("OPENAI_API_KEY", "from-env")
    monkeypatch.setenv("TUNACODE_MODEL", "anthropic:claude-haiku-5-5")
    monkeypatch.setenv("TUNACODE_MAX_PARALLEL", "5")
    config = load_config()
    assert config.api_keys["openai"] == "from-env"
    assert config.api_keys["anthropic"] == "file-anthropic"
    assert config.model == "anthropic:claude-haiku-5-5"
    assert config.settings.max_parallel == 5
    assert config.settings.max_iterations == 7


def test_default_model_follows_the_available_key(cfg_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    assert load_config().model.startswith("openai:")


def test_malformed_file_names_file_and_line(cfg_path: Path) -> None:
    cfg_path.parent.mkdir(parents=True)
    cfg_path.write_text('{\n  "default_model": "x",\n  "settings": {oops}\n}\n')
    with pytest.raises(ConfigError) as info:
        load_config()
    message = str(info.value)
    assert str(cfg_path) in message and "line 3" in message


def test_wrong_type_is_reported(cfg_path: Path) -> None:
    cfg_path.parent.mkdir(parents=True)
    cfg_path.write_text(json.dumps({"settings": {"max_iterations": "lots"}}))
    with pytest.raises(ConfigError, match="max_iterations"):
        load_config()


def test_bad_max_parallel_env(cfg_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUNACODE_MAX_PARALLEL", "zero")
    with pytest.raises(ConfigError, match="TUNACODE_MAX_PARALLEL"):
        load_config()


def test_save_is_private_and_round_trips(cfg_path: Path) -> None:
    config = load_config()
    config.env["ANTHROPIC_API_KEY"] = "sk-ant-secret"
    config.default_model = "anthropic:claude-sonnet-5-5"
    config.settings.max_iterations = 12
    save_config(config)
    assert stat.S_IMODE(os.stat(cfg_path).st_mode) == 0o600
    again = load_config()
    assert again.api_keys["anthropic"] == "sk-ant-secret"
    assert again.settings.max_iterations == 12
    assert [p.name for p in cfg_path.parent.iterdir()] == ["tunacode.json"]  # no temp file left


def test_save_never_clobbers_a_broken_file(cfg_path: Path) -> None:
    cfg_path.parent.mkdir(parents=True)
    broken = '{"env": {"OPENAI_API_KEY": "keep me"'
    cfg_path.write_text(broken)
    with pytest.raises(ConfigError):
        save_config(Config())
    assert cfg_path.read_text() == broken


def test_save_keeps_unknown_keys(cfg_path: Path) -> None:
    cfg_path.parent.mkdir(parents=True)
    cfg_path.write_text(json.dumps({"future_key": 1, "settings": {"future_setting": True}}))
    config = load_config()
    save_config(config)
    data = json.loads(cfg_path.read_text())
    assert data["future_key"] == 1 and data["settings"]["future_setting"] is True


@pytest.mark.parametrize(("settings", "needle"), [
    ({"request_timeout": 0}, "greater than 0"),
    ({"request_timeout": -5}, "greater than 0"),
    ({"auto_compact_threshold": -0.5}, "above 0 and at most 1"),
    ({"auto_compact_threshold": 1.5}, "above 0 and at most 1"),
    ({"context_window": 1}, "too small"),
])
def test_out_of_range_settings_are_rejected_clearly(cfg_path: Path, settings: dict, needle: str) -> None:
    """request_timeout <= 0, negative thresholds and context_window: 1 were accepted (issue 12, low)."""
    cfg_path.parent.mkdir(parents=True)
    cfg_path.write_text(json.dumps({"settings": settings}))
    with pytest.raises(ConfigError, match=needle) as info:
        load_config()
    assert str(cfg_path) in str(info.value) and next(iter(settings)) in str(info.value)


def test_deeply_nested_config_is_a_clear_error(cfg_path: Path) -> None:
    """A RecursionError traceback instead of a message (issue 12, low)."""
    cfg_path.parent.mkdir(parents=True)
    cfg_path.write_text('{"settings": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(ConfigError, match="nested too deeply"):
        load_config()


def test_one_provider_table_serves_config_registry_setup_and_bash(cfg_path: Path) -> None:
    """The setup screen saves OPENROUTER_BASE_URL; config must read it and the registry must use it."""
    from tunacode_tui.core.provider_table import PROVIDER_TABLE
    from tunacode_tui.providers.registry import API_KEY_ENV, BASE_URL_ENV
    from tunacode_tui.tools.bash import scrub_env
    from tunacode_tui.ui.screens.setup import apply_setup

    config = Config()
    apply_setup(config, "openrouter", "sk-or-1234567890", "openrouter:some/model", "http://127.0.0.1:9/api/v1")
    assert config.base_urls["openrouter"] == "http://127.0.0.1:9/api/v1"
    assert config.api_keys["openrouter"] == "sk-or-1234567890"
    assert "sk-or-1234567890" in config.secrets()
    for entry in PROVIDER_TABLE:
        assert API_KEY_ENV[entry.name] == entry.key_env and BASE_URL_ENV[entry.name] == entry.base_url_env
    env = {entry.key_env: "secret" for entry in PROVIDER_TABLE} | {"PATH": "/bin"}
    assert scrub_env(env) == {"PATH": "/bin"}


def test_unknown_and_misplaced_keys_are_warned_with_file_and_line(cfg_path: Path) -> None:
    """A typo or a key in the wrong place must not pass silently: each gets file:line and what to do; the
    seed's top-level keys are honoured and pointed to their settings. place."""
    cfg_path.parent.mkdir(parents=True)
    cfg_path.write_text(
        "{\n"
        '  "default_model": "openai:gpt-4.1",\n'
        '  "context_window": 64000,\n'
        '  "max_response_tokens": 4096,\n'
        '  "max_iterations": 12,\n'
        '  "defualt_model": "x",\n'
        '  "settings": {\n'
        '    "max_paralel": 3,\n'
        '    "env": {}\n'
        "  }\n"
        "}\n"
    )
    config = load_config(cfg_path)
    s = config.settings
    assert (s.context_window, s.max_response_tokens, s.max_iterations) == (64000, 4096, 12)
    by_line = {w.split(": ", 1)[0]: w for w in config.warnings}
    assert set(by_line) == {f"{cfg_path}:{n}" for n in (3, 4, 5, 6, 8, 9)}
    assert "belongs under settings (settings.context_window)" in by_line[f"{cfg_path}:3"]
    assert "did you mean default_model?" in by_line[f"{cfg_path}:6"]
    assert "settings.max_paralel is not a setting (did you mean max_parallel?)" in by_line[f"{cfg_path}:8"]
    assert "belongs at the top level" in by_line[f"{cfg_path}:9"]
    assert s.max_parallel == default_max_parallel()


def test_a_clean_file_has_no_warnings(cfg_path: Path) -> None:
    save_config(Config(default_model="openai:gpt-4.1"), cfg_path)
    assert load_config(cfg_path).warnings == []


def test_an_unreadable_permission_rule_is_warned(cfg_path: Path) -> None:
    cfg_path.parent.mkdir(parents=True)
    cfg_path.write_text('{\n  "settings": {\n    "allowed_tools": ["bash(git status:*)", "bash(a && b)"]\n  }\n}\n')
    config = load_config(cfg_path)
    assert config.settings.allowed_tools == ["bash(git status:*)", "bash(a && b)"]
    (warning,) = config.warnings
    assert warning.startswith(f"{cfg_path}:3: 'bash(a && b)'") and "shell operators" in warning
