"""Fixtures for the tool tests: a real project folder per test and a context pointing at it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tunacode_tui.tools.base import ToolContext


@pytest.fixture
def root(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    return project.resolve()


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_text("top secret\n")
    return folder.resolve()


@pytest.fixture
def ctx(root: Path) -> ToolContext:
    return ToolContext(root=root)
