"""``@path`` attaches the file to the prompt: over the wire, confined like the tools, capped, and said so."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.agent.test_loop_e2e import make_agent
from tests.fake_llm_server import FakeLLMServer, text
from tunacode_tui.agent.mentions import MAX_FILE_CHARS, attach_mentions, find_mentions
from tunacode_tui.core.events import TurnStarted
from tunacode_tui.tools.base import ToolContext


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text("def main():\n    return 42\n")
    (tmp_path / "secret.txt").write_text("TOP SECRET")
    return root


def test_find_mentions() -> None:
    assert find_mentions("look at @src/app.py, then @README.md.") == ["src/app.py", "README.md"]
    assert find_mentions("mail me@example.com or ask @alice; (@a.py) @a.py") == ["alice", "a.py"]


async def test_a_mentioned_file_reaches_the_model_with_the_prompt(llm_server: FakeLLMServer, project: Path) -> None:
    llm_server.add(text("It returns 42."))
    agent, pool = make_agent(llm_server, project)
    events: list = []
    try:
        await agent.run_turn("what does @src/app.py return? ask @alice", events.append)
    finally:
        await pool.aclose()
    sent = llm_server.requests[0].body["messages"][-1]
    assert sent["role"] == "user"
    assert sent["content"].startswith("what does @src/app.py return? ask @alice")
    assert '<attached_file path="src/app.py">\ndef main():\n    return 42\n' in sent["content"]
    (started,) = [e for e in events if isinstance(e, TurnStarted)]
    assert [(a.path, a.error) for a in started.attachments] == [("src/app.py", None)]
    assert agent.state.messages[0].parts[0].text == "what does @src/app.py return? ask @alice"


def test_paths_outside_the_project_are_refused_and_big_files_capped(project: Path) -> None:
    (project / "big.txt").write_text("x" * (MAX_FILE_CHARS + 10))
    (project / "link.txt").symlink_to(project.parent / "secret.txt")
    message, files = attach_mentions("@../secret.txt @link.txt @big.txt", ToolContext(root=project))
    assert "TOP SECRET" not in message.text
    by_path = {f.path: f for f in files}
    assert by_path["../secret.txt"].error and "outside the project" in by_path["../secret.txt"].error
    assert by_path["big.txt"].truncated and by_path["big.txt"].chars == MAX_FILE_CHARS
    assert f"first {MAX_FILE_CHARS:,} of {MAX_FILE_CHARS + 10:,} characters" in message.text
    assert by_path["link.txt"].error  # a link inside the project that leads out is refused, like the tools do


def test_a_huge_file_is_attached_without_reading_it_whole(project: Path) -> None:
    """A 64 MB log must cost the cap, not 64 MB of memory (and its read) on the event loop."""
    import os
    import tracemalloc

    log = project / "huge.log"
    log.write_text("é line\n" * 2000)  # text first (multi-byte), then a sparse tail of 64 MB
    os.truncate(log, 64 * 1024 * 1024)
    tracemalloc.start()
    try:
        message, files = attach_mentions("@huge.log", ToolContext(root=project))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    (attached,) = files
    assert attached.error is None and attached.truncated and attached.chars == MAX_FILE_CHARS
    assert attached.size == 64 * 1024 * 1024
    assert f"first {MAX_FILE_CHARS:,} of a {64 * 1024 * 1024:,}-byte file" in message.text
    assert "\ufffd" not in message.text  # no broken character at the cut
    assert peak < 8 * 1024 * 1024, peak
