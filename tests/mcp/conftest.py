"""Fixtures for the MCP tests (helpers in tests/mcp/helpers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.mcp.helpers import make_repo


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path)
