"""Where tunacode keeps its files, via platformdirs, each overridable for tests and power users."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "tunacode"


def _dirs():  # imported lazily: platformdirs is cheap, but --version needs nothing at all
    import platformdirs

    return platformdirs.PlatformDirs(APP_NAME, appauthor=False)


def config_file() -> Path:
    """``TUNACODE_CONFIG`` wins, else ``<user config dir>/tunacode.json``."""
    override = os.environ.get("TUNACODE_CONFIG")
    if override:
        return Path(override).expanduser()
    return Path(_dirs().user_config_dir) / "tunacode.json"


def data_dir() -> Path:
    override = os.environ.get("TUNACODE_DATA_DIR")
    return Path(override).expanduser() if override else Path(_dirs().user_data_dir)


def sessions_dir() -> Path:
    return data_dir() / "sessions"


def log_dir() -> Path:
    override = os.environ.get("TUNACODE_LOG_DIR")
    return Path(override).expanduser() if override else Path(_dirs().user_log_dir)
