"""One undecodable byte must never poison a session (issue 12, item 2): a file name like caf\\xe9.txt
listed by a tool, a prompt with invalid bytes, or a journal that already holds such text. Each case sends
a follow-up request through the real SDKs; before the fix every later request failed to encode."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.agent.test_loop_e2e import _no_env_keys, allow_all, make_agent, run  # noqa: F401 - autouse fixture
from tests.fake_llm_server import FakeLLMServer, text, tool_call
from tunacode_tui.core.messages import Message, clean_text
from tunacode_tui.session.journal import SessionJournal
from tunacode_tui.session.store import load_session

APIS = ["openai", "anthropic"]
BAD_NAME = os.fsdecode(b"caf\xe9.txt")  # "caf\udce9.txt": how Python carries the byte 0xE9


def _sent_text(server: FakeLLMServer) -> str:
    return str(server.requests[-1].body)


@pytest.mark.parametrize("tool", ["list_dir", "glob"])
@pytest.mark.parametrize("api", APIS)
async def test_listing_a_non_utf8_file_name_keeps_the_session_working(llm_server: FakeLLMServer, tmp_path: Path,
                                                                      api: str, tool: str) -> None:
    (tmp_path / BAD_NAME).write_text("menu\n")
    args = {"path": "."} if tool == "list_dir" else {"pattern": "*.txt"}
    llm_server.add(tool_call(tool, args))
    llm_server.add(text("seen it"))
    llm_server.add(text("still fine"))
    agent, pool = make_agent(llm_server, tmp_path, api=api)
    ended = await run(agent, pool, "what files are there?", allow_all([]))
    assert ended.reason == "completed" and ended.text == "seen it", ended.error
    assert "caf\\\\xe9.txt" in _sent_text(llm_server)  # the byte, shown as an escape the model can read
    agent2_ended = await run(agent, pool, "and now?", allow_all([]))
    assert agent2_ended.reason == "completed", agent2_ended.error


@pytest.mark.parametrize("api", APIS)
async def test_prompt_with_invalid_bytes_is_sent(llm_server: FakeLLMServer, tmp_path: Path, api: str) -> None:
    llm_server.add(text("ok"))
    agent, pool = make_agent(llm_server, tmp_path, api=api)
    prompt = os.fsdecode(b"rename caf\xe9.txt please")  # what sys.argv holds for such bytes
    ended = await run(agent, pool, prompt, allow_all([]))
    assert ended.reason == "completed", ended.error
    assert "rename caf\\\\xe9.txt please" in _sent_text(llm_server)


async def test_journal_holding_bad_text_is_repaired_on_resume(llm_server: FakeLLMServer, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUNACODE_DATA_DIR", str(tmp_path / "data"))
    # A journal written by an older version: the surrogate is stored as a JSON \\udce9 escape.
    with SessionJournal(root=tmp_path, model="openai:gpt-4.1") as journal:
        journal.message(Message.user("list"))
        journal.message(Message.assistant(f"found {BAD_NAME}"))
    assert "\\udce9" in journal.path.read_text()
    loaded = load_session(journal.path)
    for message in loaded.state.messages:
        json.dumps(message.to_dict(), ensure_ascii=False).encode("utf-8")  # raises on a surrogate
    assert [m.text for m in loaded.state.messages] == ["list", "found caf\\xe9.txt"]
    # ...and the repaired history can be sent.
    llm_server.add(text("resumed fine"))
    agent, pool = make_agent(llm_server, tmp_path)
    agent.state.messages[:] = loaded.state.messages
    ended = await run(agent, pool, "go on", allow_all([]))
    assert ended.reason == "completed", ended.error


def test_clean_text_is_consistent() -> None:
    assert clean_text("plain ascii") == "plain ascii"
    assert clean_text("déjà vu ✓") == "déjà vu ✓"
    assert clean_text(os.fsdecode(b"a\xff\xfeb")) == "a\\xff\\xfeb"
    assert clean_text("lone \ud800 high") == "lone \ufffd high"


async def test_undecodable_bytes_read_the_same_everywhere(tmp_path: Path) -> None:
    """The same undecodable byte reads as the same escape in a file name (list_dir, glob), in a command's
    output (bash) and in a matched line (grep, both backends), so the model sees one spelling of it."""
    from tunacode_tui.tools.base import ToolContext
    from tunacode_tui.tools.bash import BashTool
    from tunacode_tui.tools.grep import GrepTool, find_rg

    (tmp_path / "menu.txt").write_bytes(b"caf\xe9 au lait\n")
    ctx = ToolContext(root=tmp_path)
    out = await BashTool().run({"command": "printf 'caf\\351\\n'"}, ctx)
    assert out.content.startswith("caf\\xe9\n")
    for backend in ("rg", "python") if find_rg() else ("python",):
        found = await GrepTool(backend=backend).run({"pattern": "au lait"}, ctx)
        assert "caf\\xe9 au lait" in found.content, (backend, found.content)
    assert clean_text(os.fsdecode(b"caf\xe9")) == "caf\\xe9"
