"""The environment as the user started tunacode, keys included, after ``key_capture`` took the keys out of
``os.environ``: what ``${VAR}`` in an MCP entry refers to, so a project's ``.mcp.json`` read after start-up
still finds ``${BRAVE_API_KEY}``."""

from __future__ import annotations

import os

# Filled by ``key_capture.capture_keys``. The process environment is global state, and so is this record of it.
CAPTURED: dict[str, str] = {}


def process_environment() -> dict[str, str]:
    return {**os.environ, **CAPTURED}
