"""A cancel never leaves a write half-reported: a file edit that was cancelled did not happen, and one that
happened is reported, journaled and undoable as done (issue 12, item 1).

The write's thread is held at a known point by wrapping our own ``atomic_write`` (no SDK object is touched),
so the cancel lands exactly where the bug was: while the thread works, or just after its rename. Each test
runs its loop with ``asyncio.run``, which joins the worker threads before the assertions, so a write that
"kept going after the cancel" has landed by the time the file is checked.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from tests.agent.test_loop_e2e import _no_env_keys, allow_all, make_agent  # noqa: F401 - autouse fixture
from tests.fake_llm_server import FakeLLMServer, text, tool_call
from tunacode_tui.core.events import ToolCallFinished, ToolCallStarted
from tunacode_tui.tools import fileio, update_file

ORIGINAL = "line\n" * 200_000 + "TARGET = 1\n"


def _cancel_during_write(server: FakeLLMServer, root: Path, monkeypatch: pytest.MonkeyPatch, *,
                         after_rename: bool, tool: str = "update_file") -> tuple[list, object]:
    """Run one turn whose model asks for ``tool``; cancel the turn while the write's thread is inside
    ``atomic_write`` (before its rename, or just after it). Returns the events and the agent."""
    entered = threading.Event()
    proceed = threading.Event()
    real = fileio.atomic_write

    def held_write(path, data, **kwargs):  # type: ignore[no-untyped-def]
        if after_rename:
            result = real(path, data, **kwargs)
            entered.set()
            proceed.wait(30)
            return result
        entered.set()
        # Go on only once the cancel has reached the write's stop flag (or after ``proceed``, when there is
        # no flag): the test must not depend on how many loop steps the cancel takes to get there.
        stop = kwargs.get("stop")
        if stop is not None:
            stop.wait(30)
        else:
            proceed.wait(30)
        return real(path, data, **kwargs)

    monkeypatch.setattr(update_file, "atomic_write", held_write)
    from tunacode_tui.tools import write_file
    monkeypatch.setattr(write_file, "atomic_write", held_write)
    if tool == "update_file":
        server.add(tool_call("update_file", {"file_path": "big.py", "old_text": "TARGET = 1",
                                             "new_text": "TARGET = 2"}))
    else:
        server.add(tool_call("write_file", {"file_path": "new.py", "content": "created = True\n"}))
    server.add(text("never reached"))
    agent, pool = make_agent(server, root)
    events: list = []

    async def scenario() -> None:
        task = asyncio.ensure_future(agent.run_turn("edit it", allow_all(events)))
        await asyncio.to_thread(entered.wait, 30)
        task.cancel()
        await asyncio.sleep(0)  # let the cancel reach the awaiting tool before the thread may go on
        proceed.set()
        with pytest.raises(asyncio.CancelledError):
            await task
        await pool.aclose()

    asyncio.run(scenario())  # joins the default executor: any write still running has landed now
    return events, agent


def _finished(events: list, name: str) -> ToolCallFinished:
    return next(e for e in events if isinstance(e, ToolCallFinished) and e.name == name)


@pytest.mark.parametrize("after_rename", [False, True], ids=["cancel-before-rename", "cancel-after-rename"])
def test_cancelled_update_is_either_undone_or_reported_done(llm_server: FakeLLMServer, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch,
                                                             after_rename: bool) -> None:
    big = tmp_path / "big.py"
    big.write_text(ORIGINAL)
    events, agent = _cancel_during_write(llm_server, tmp_path, monkeypatch, after_rename=after_rename)
    assert any(isinstance(e, ToolCallStarted) and e.name == "update_file" for e in events)
    finished = _finished(events, "update_file")
    changed = big.read_text() != ORIGINAL
    # The history the model and a --continue will see says the same thing as the disk.
    results = [p for m in agent.state.messages for p in m.tool_results]
    assert [r.content for r in results] == [finished.result]
    if after_rename:
        assert changed and finished.status == "done" and finished.ok, finished
        assert "Updated big.py" in finished.result
        assert "restored big.py" in agent.undo().summary()
        assert big.read_text() == ORIGINAL
    else:
        assert not changed, "a cancelled edit landed anyway"
        assert finished.status == "cancelled" and not finished.ok
        assert agent.undo().summary() == "Nothing to undo."
    assert not list(tmp_path.glob(".big.py.*.tmp"))


def test_cancelled_write_file_creates_nothing(llm_server: FakeLLMServer, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    events, _ = _cancel_during_write(llm_server, tmp_path, monkeypatch, after_rename=False, tool="write_file")
    assert _finished(events, "write_file").status == "cancelled"
    assert not (tmp_path / "new.py").exists()
    assert not list(tmp_path.glob(".new.py.*.tmp"))


def test_cancel_while_the_checkpoint_is_saved_leaves_nothing_to_undo(llm_server: FakeLLMServer, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A cancel while the /undo checkpoint was being saved (in its thread) left it open, so /undo took the
    untouched file for one "changed since" and refused to call the turn empty."""
    from tunacode_tui.agent.checkpoints import Checkpoints

    big = tmp_path / "big.py"
    big.write_text(ORIGINAL)
    entered, proceed = threading.Event(), threading.Event()
    real = Checkpoints.before_change

    def held_save(self, tool, args, ctx):  # type: ignore[no-untyped-def]
        entered.set()
        proceed.wait(30)
        return real(self, tool, args, ctx)

    monkeypatch.setattr(Checkpoints, "before_change", held_save)
    llm_server.add(tool_call("update_file", {"file_path": "big.py", "old_text": "TARGET = 1",
                                             "new_text": "TARGET = 2"}))
    agent, pool = make_agent(llm_server, tmp_path)
    events: list = []

    async def scenario() -> None:
        task = asyncio.ensure_future(agent.run_turn("edit it", allow_all(events)))
        await asyncio.to_thread(entered.wait, 30)
        task.cancel()
        await asyncio.sleep(0)
        proceed.set()
        with pytest.raises(asyncio.CancelledError):
            await task
        await pool.aclose()

    asyncio.run(scenario())
    assert big.read_text() == ORIGINAL
    assert _finished(events, "update_file").status == "cancelled"
    assert agent.undo().summary() == "Nothing to undo."
