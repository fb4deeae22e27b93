"""The per-project prompt history: bounded, and its rewrite keeps what another session appended."""

from __future__ import annotations

from pathlib import Path

from tunacode_tui.session.prompt_history import SLACK, PromptHistory


def test_the_bounding_rewrite_keeps_prompts_another_session_appended(project: Path) -> None:
    first, second = PromptHistory(project, limit=3), PromptHistory(project, limit=3)
    for i in range(3 + SLACK):  # up to the bound: appended
        first.add(f"a{i}")
    second.add("from the other session")  # appended by another app on the same project
    first.add("last")  # past the bound: the file is rewritten with the newest 3
    assert PromptHistory(project, limit=3).entries == [f"a{2 + SLACK}", "from the other session", "last"]
    assert first.path.stat().st_mode & 0o777 == 0o600
