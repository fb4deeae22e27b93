"""Configuration: the settings model, loading (file + environment) and atomic saving."""

from tunacode_tui.config.loader import ConfigError, load_config, save_config
from tunacode_tui.config.settings import Config, Settings

__all__ = ["Config", "ConfigError", "Settings", "load_config", "save_config"]
