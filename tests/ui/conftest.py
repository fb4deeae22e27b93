"""UI tests: the app against the fake LLM server, with no user config, keys or sessions leaking in."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fake_llm_server import FakeLLMServer
from tests.ui.helpers import MODEL, Recorder
from tunacode_tui.config.settings import Config
from tunacode_tui.core.provider_table import BASE_URL_VARIABLES, KEY_VARIABLES


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Config and data in the test's folder; no provider keys, model or URLs from the environment."""
    monkeypatch.setenv("TUNACODE_CONFIG", str(tmp_path / "config" / "tunacode.json"))
    monkeypatch.setenv("TUNACODE_DATA_DIR", str(tmp_path / "data"))
    for variable in (*KEY_VARIABLES, *BASE_URL_VARIABLES, "TUNACODE_MODEL", "TUNACODE_MAX_PARALLEL"):
        monkeypatch.delenv(variable, raising=False)
    return tmp_path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    for name in ("a", "b", "c"):
        (root / f"{name}.py").write_text(f"print({name!r})\n", encoding="utf-8")
    return root


@pytest.fixture
def config(llm_server: FakeLLMServer) -> Config:
    config = Config(default_model=MODEL, env={"OPENAI_API_KEY": "test", "OPENAI_BASE_URL": llm_server.openai_base_url})
    config.settings.max_parallel = 4
    config.settings.request_timeout = 10.0
    return config


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()
