"""Markdown export: the conversation, fenced tool traffic, shortened results, masked secrets."""

from __future__ import annotations

from pathlib import Path

from tests.session.helpers import sample_conversation
from tunacode_tui.core.messages import Message, ToolCallPart, ToolResultPart
from tunacode_tui.core.state import SessionState
from tunacode_tui.session.export import RESULT_CHARS, export_markdown
from tunacode_tui.session.journal import SessionJournal
from tunacode_tui.session.store import load_session


def test_export_contains_the_conversation(project: Path, tmp_path: Path) -> None:
    with SessionJournal(root=project, model="openai:gpt-x") as journal:
        for message in sample_conversation():
            journal.message(message)
    out = export_markdown(load_session(journal.id), tmp_path / "out" / "session.md")
    text = out.read_text(encoding="utf-8")
    assert text.startswith(f"# tunacode session {journal.id}")
    assert "`openai:gpt-x`" in text and str(project.resolve()) in text
    assert "## User\n\nFind the config loader and explain it." in text
    assert "## Assistant" in text and "> I should grep first." in text
    assert '**Tool call** `grep` (`call_1`)\n\n```json\n{\n  "pattern": "def load",' in text
    assert "**Tool result** `grep` (`call_1`)\n\n```\nsrc/config.py:10: def load():\n```" in text
    assert "**Tool error** `read_file` (`call_2`)" in text
    assert text.rstrip().endswith("The loader is `load()` in src/config.py — ünïcode ✓.")


def test_long_results_are_shortened_fences_hold_and_secrets_are_masked(tmp_path: Path) -> None:
    key = "sk-" + "k3y" * 12
    state = SessionState(
        messages=[
            Message.user(f"use {key}"),
            Message("assistant", [ToolCallPart("c1", "read_file", {"file_path": "README.md"})]),
            Message("tool", [ToolResultPart("c1", "read_file", "```python\nx = 1\n```\n" + "y" * 10_000)]),
        ]
    )
    text = export_markdown(state, tmp_path / "s.md", secrets=["k3yk3yk3y-unused"]).read_text(encoding="utf-8")
    assert key not in text and "sk-…(redacted)" in text
    assert "````\n```python" in text  # a longer fence around content that has its own
    assert "y" * RESULT_CHARS not in text and "more characters not shown" in text


def test_export_is_private(tmp_path: Path) -> None:
    """Exports were 0644 while the session file they come from is 0600 (issue 12, low)."""
    import os
    import stat

    from tunacode_tui.core.state import SessionState

    old_umask = os.umask(0o022)
    try:
        target = tmp_path / "s.md"
        target.write_text("old")
        target.chmod(0o644)
        export_markdown(SessionState(), target)
        fresh = export_markdown(SessionState(), tmp_path / "new.md")
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600
