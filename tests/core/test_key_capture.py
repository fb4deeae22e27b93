"""Keys taken out of the environment stay in memory: the process must then refuse same-user memory reads."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROBE = """
import ctypes, os
from tunacode_tui.config.key_capture import capture_keys
from tunacode_tui.config.settings import Config
libc = ctypes.CDLL(None)
before = libc.prctl(3, 0, 0, 0, 0)  # PR_GET_DUMPABLE
config = Config()
names = capture_keys(config)
print(before, libc.prctl(3, 0, 0, 0, 0), names, "OPENAI_API_KEY" in os.environ, config.captured["OPENAI_API_KEY"])
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl and /proc are Linux's")
def test_captured_keys_leave_the_environment_and_the_process_is_not_dumpable() -> None:
    env = {"PATH": "/usr/bin:/bin", "OPENAI_API_KEY": "sk-test-0123456789abcdef"}
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["1", "0", "['OPENAI_API_KEY']", "False", "sk-test-0123456789abcdef"]


EXPAND = """
import os
from tunacode_tui.config.key_capture import capture_keys
from tunacode_tui.config.mcp import expand_variables
from tunacode_tui.config.settings import Config
capture_keys(Config())
print("BRAVE_API_KEY" in os.environ, expand_variables("${BRAVE_API_KEY}"))
"""


def test_mcp_entries_still_expand_a_captured_key() -> None:
    """A project's .mcp.json is read after start-up, when the keys have left os.environ."""
    env = {"PATH": "/usr/bin:/bin", "BRAVE_API_KEY": "brave-0123456789"}
    out = subprocess.run([sys.executable, "-c", EXPAND], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "brave-0123456789"]
