"""The journal on disk: round trip through replay, permissions, compaction, clear, secrets, damaged files."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

from tests.session.helpers import sample_conversation
from tunacode_tui.core.events import (
    BatchFinished,
    BatchMeasured,
    MeasuredRun,
    Notice,
    ToolCallFinished,
    UsageUpdated,
)
from tunacode_tui.core.messages import Message, ToolCallPart, ToolResultPart, Usage
from tunacode_tui.session.journal import RESULT_PREVIEW_CHARS, SessionFileError, SessionJournal
from tunacode_tui.session.store import INTERRUPTED_RESULT, load_session, repair_history, resume_session


def usage_event(usage: Usage, cost: float | None) -> UsageUpdated:
    return UsageUpdated(usage, cost, usage, cost, usage, cost, 1000, 200_000, 0.0)


def call_event(batch: int, call_id: str, name: str, started: float, ended: float, ok: bool = True) -> ToolCallFinished:
    return ToolCallFinished(
        batch, call_id, name, {"path": "src"}, ok, f"result of {call_id}", None, started, ended,
        "done" if ok else "failed",
    )


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def test_round_trip_replays_an_equal_state(project: Path, data_dir: Path) -> None:
    conversation = sample_conversation()
    todos = [{"content": "read config", "status": "done"}, {"content": "explain", "status": "pending"}]
    calls = [call_event(1, "call_1", "grep", 10.0, 10.25), call_event(1, "call_2", "read_file", 10.0, 10.5, ok=False),
             call_event(2, "call_3", "grep", 11.0, 11.125)]
    batches = [BatchFinished(1, 2, True, 10.0, 10.5, 0.75), BatchFinished(2, 1, False, 11.0, 11.125, 0.125)]

    with SessionJournal(root=project, model="openai:gpt-x") as journal:
        assert journal.path.parent == data_dir / "sessions"
        for message in conversation:
            journal.message(message)
        journal.todos(todos)
        journal.event(usage_event(Usage(100, 20, 50, 5), 0.25))
        journal.event(usage_event(Usage(200, 30), 0.5))
        journal.event(usage_event(Usage(1, 1), None))
        for event in [*calls, *batches]:
            assert journal.event(event)
        assert not journal.event(Notice("info", "not journaled", 0.0))
        journal.settings(model="anthropic:claude-x", max_iterations=12)

    loaded = load_session(journal.id)
    state = loaded.state
    assert loaded.warnings == []
    assert loaded.id == journal.id and loaded.root == str(project.resolve())
    assert loaded.model == "anthropic:claude-x" and state.max_iterations == 12
    assert state.messages == conversation
    assert state.todos == todos
    assert state.usage == Usage(301, 51, 50, 5)
    assert state.cost.known == pytest.approx(0.75) and state.cost.unknown == 1
    assert state.requests == 3
    assert state.next_batch == 3
    assert [(c.batch, c.call_id, c.name, c.args, c.ok, c.status, c.result) for c in state.calls] == [
        (c.batch, c.call_id, c.name, c.args, c.ok, c.status, c.result) for c in calls
    ]
    assert [c.duration for c in state.calls] == pytest.approx([c.duration for c in calls], abs=1e-5)
    assert [(b.batch, b.size, b.parallel, b.status) for b in state.batches] == [
        (b.batch, b.size, b.parallel, b.status) for b in batches
    ]
    assert [b.wall for b in state.batches] == pytest.approx([b.wall for b in batches], abs=1e-5)
    assert [b.busy for b in state.batches] == pytest.approx([0.75, 0.125])


def test_header_and_one_record_per_line(project: Path) -> None:
    with SessionJournal(root=project, model="openai:gpt-x") as journal:
        journal.message(Message.user("hello\nworld\u2028!"))
    header, message = records(journal.path)
    assert header["type"] == "session" and header["id"] == journal.id
    assert header["root"] == str(project.resolve()) and header["model"] == "openai:gpt-x" and header["version"]
    assert message["type"] == "message" and message["ts"]
    assert len(journal.path.read_bytes().split(b"\n")) == 3  # two lines and the final newline


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_file_is_private(project: Path) -> None:
    with SessionJournal(root=project, model="m") as journal:
        journal.message(Message.user("hi"))
    assert stat.S_IMODE(journal.path.stat().st_mode) == 0o600
    os.chmod(journal.path, 0o644)
    SessionJournal.reopen(journal.path).close()
    assert stat.S_IMODE(journal.path.stat().st_mode) == 0o600


def test_compaction_keeps_older_records_and_replays_the_new_history(project: Path) -> None:
    old = sample_conversation()
    compacted = [Message.user("[Summary] we looked at the loader"), Message.assistant("Understood."), old[-1]]
    with SessionJournal(root=project, model="m") as journal:
        for message in old:
            journal.message(message)
        journal.compaction("we looked at the loader", 1, compacted)
        journal.message(Message.user("next question"))

    lines = records(journal.path)
    assert sum(1 for r in lines if r["type"] == "message") == len(old) + 1  # nothing was rewritten
    compaction = next(r for r in lines if r["type"] == "compaction")
    assert compaction["summary"] == "we looked at the loader" and compaction["kept_count"] == 1
    assert load_session(journal.path).state.messages == [*compacted, Message.user("next question")]


def test_clear_resets_history_and_todos_but_not_totals(project: Path) -> None:
    with SessionJournal(root=project, model="m") as journal:
        for message in sample_conversation():
            journal.message(message)
        journal.todos([{"content": "x", "status": "pending"}])
        journal.event(usage_event(Usage(10, 1), 0.1))
        journal.clear()
        journal.message(Message.user("fresh start"))
    state = load_session(journal.id).state
    assert state.messages == [Message.user("fresh start")]
    assert state.todos == []
    assert state.usage == Usage(10, 1)

    with SessionJournal.reopen(journal.path) as again:
        again.clear(totals=True)
    state = load_session(journal.id).state
    assert state.messages == [] and state.usage == Usage() and state.requests == 0


def test_secrets_never_reach_the_file(project: Path) -> None:
    configured = "hunter2-\"quoted\\-secret"  # a quote and a backslash: escaped differently in JSON
    openai_key = "sk-proj-" + "A1b2C3d4" * 6
    anthropic_key = "sk-ant-api03-" + "x9Y8z7" * 8
    bearer = "Bearer eyJhbGciOiJIUzI1NiJ9.c2VjcmV0.dGVzdDEyMw"
    text = f"my keys: {configured} {openai_key} {anthropic_key}; header {bearer}"
    with SessionJournal(root=project, model="m", secrets=[configured]) as journal:
        journal.message(Message.user(text))
        journal.message(Message("assistant", [ToolCallPart("c1", "bash", {"command": f"curl -H '{bearer}'"})]))
        journal.event(ToolCallFinished(1, "c1", "bash", {"env": openai_key}, True, text, None, 0.0, 1.0))
        journal.todos([{"content": anthropic_key}])
        journal.settings(note=configured)

    raw = journal.path.read_bytes()
    decoded = raw.decode("utf-8")
    for secret in (configured, openai_key, anthropic_key, "eyJhbGciOiJIUzI1NiJ9", json.dumps(configured)[1:-1]):
        assert secret.encode() not in raw
    assert "sk-…(redacted)" in decoded and "sk-ant-…(redacted)" in decoded and "Bearer …(redacted)" in decoded
    assert load_session(journal.id).state.messages[0].text.startswith("my keys: …(redacted) sk-…(redacted)")


def test_long_tool_results_are_previews(project: Path) -> None:
    with SessionJournal(root=project, model="m") as journal:
        journal.event(ToolCallFinished(1, "c1", "read_file", {}, True, "x" * 50_000, None, 0.0, 1.0))
    (record,) = [r for r in records(journal.path) if r["type"] == "tool_call"]
    assert len(record["result"]) < RESULT_PREVIEW_CHARS + 200
    assert "full text is in the tool message" in record["result"]


def test_truncated_last_line_is_skipped_with_a_warning(project: Path) -> None:
    conversation = sample_conversation()
    with SessionJournal(root=project, model="m") as journal:
        for message in conversation:
            journal.message(message)
    with journal.path.open("ab") as handle:  # what a kill mid-write leaves behind
        handle.write(b'{"type":"message","ts":"2026-11-25T14:25:01.000+00:00","message":{"role":"us')

    loaded = load_session(journal.id)
    assert loaded.state.messages == conversation
    assert len(loaded.warnings) == 1 and "cut off" in loaded.warnings[0]

    # Resuming appends on a fresh line: the partial record stays isolated, the new one is intact.
    loaded, resumed = resume_session(journal.id)
    with resumed:
        resumed.message(Message.user("after the crash"))
    again = load_session(journal.id)
    assert again.state.messages == [*conversation, Message.user("after the crash")]
    assert len(again.warnings) == 1 and "damaged" in again.warnings[0]


def test_dangling_tool_calls_get_cancelled_results(project: Path) -> None:
    asked = Message(
        "assistant", [ToolCallPart("c1", "grep", {"pattern": "x"}), ToolCallPart("c2", "read_file", {"file_path": "a"})]
    )
    with SessionJournal(root=project, model="m") as journal:
        journal.message(Message.user("go"))
        journal.message(asked)

    loaded = load_session(journal.id)
    last = loaded.state.messages[-1]
    assert last.role == "tool"
    assert [(r.tool_call_id, r.is_error, r.content) for r in last.tool_results] == [
        ("c1", True, INTERRUPTED_RESULT), ("c2", True, INTERRUPTED_RESULT)
    ]
    assert loaded.repaired == [last]
    assert any("marked as cancelled" in w for w in loaded.warnings)

    # Resuming writes the repair into the journal, so the next load needs none.
    _, resumed = resume_session(journal.id)
    resumed.close()
    again = load_session(journal.id)
    assert again.warnings == [] and again.state.messages == loaded.state.messages


def test_repair_fills_gaps_in_the_middle_of_a_history() -> None:
    messages = [
        Message.user("a"),
        Message("assistant", [ToolCallPart("c1", "grep", {}), ToolCallPart("c2", "grep", {})]),
        Message("tool", [ToolResultPart("c1", "grep", "ok")]),
        Message("assistant", [ToolCallPart("c3", "grep", {})]),
        Message.user("b"),
    ]
    assert repair_history(messages) == 2
    assert [r.tool_call_id for r in messages[2].tool_results] == ["c1", "c2"]
    assert messages[4].role == "tool" and messages[4].tool_results[0].tool_call_id == "c3"
    assert repair_history(messages) == 0


def test_writes_after_close_are_ignored(project: Path) -> None:
    journal = SessionJournal(root=project, model="m")
    journal.close()
    journal.message(Message.user("late"))
    journal.close()
    assert journal.closed
    assert load_session(journal.id).state.messages == []


def test_unwritable_data_folder_is_an_actionable_error(project: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(SessionFileError, match="TUNACODE_DATA_DIR"):
        SessionJournal(root=project, model="m", directory=blocker / "sessions")


def test_batch_figures_and_measurements_replay_as_they_were_live(project: Path) -> None:
    # Calls started while the model streamed: 0.3 s of calls in a 1.0 s span, so wall (0.3) != span.
    live = BatchFinished(4, 3, True, 100.0, 101.0, busy=0.45, active=0.3)
    measured = BatchMeasured(4, 3, 4, [MeasuredRun("sequential", 0.3), MeasuredRun("parallel", 0.2),
                                       MeasuredRun("sequential", 0.33), MeasuredRun("parallel", 0.18),
                                       MeasuredRun("sequential", 0.31), MeasuredRun("parallel", 0.21)],
                             changed=["src/a.py"])
    with SessionJournal(root=project, model="openai:gpt-x") as journal:
        journal.event(live)
        journal.event(measured)
    batch_record, measured_record = records(journal.path)[1:]
    assert batch_record["overlap"] == 1.5 and "speedup" not in batch_record
    assert measured_record["type"] == "batch_measured" and measured_record["speedup"] == round(0.31 / 0.2, 3)

    state = load_session(journal.id).state
    [batch] = state.batches
    assert batch.wall == pytest.approx(0.3, abs=1e-5) and batch.span == pytest.approx(1.0, abs=1e-5)
    assert batch.overlap == pytest.approx(live.overlap, rel=1e-4)
    again = state.measurements[4]
    assert again.runs == measured.runs and again.changed == ["src/a.py"] and not again.reliable
    assert again.speedup == pytest.approx(measured.speedup)


def test_a_file_from_before_overlap_was_named_still_resumes(project: Path, data_dir: Path) -> None:
    """Older journals called busy/wall ``speedup``: the batch comes back with the same overlap."""
    folder = data_dir / "sessions"
    folder.mkdir(parents=True)
    path = folder / "20260101-000000-abcdef.jsonl"
    header = {"type": "session", "id": path.stem, "created": "2026-01-01T00:00:00.000+00:00",
              "root": str(project), "model": "openai:gpt-x", "version": "0.1.0", "format": 1}
    old = {"type": "batch", "ts": "2026-01-01T00:00:01.000+00:00", "batch": 1, "size": 2, "parallel": True,
           "status": "done", "started": 1767225600.0, "ended": 1767225600.5, "wall": 0.4, "busy": 0.6,
           "speedup": 1.5}
    path.write_text("\n".join(json.dumps(r) for r in (header, old)) + "\n")
    loaded = load_session(path.stem)
    assert loaded.warnings == []
    [batch] = loaded.state.batches
    assert batch.wall == pytest.approx(0.4) and batch.overlap == pytest.approx(1.5)
    assert loaded.state.next_batch == 2


def test_batch_numbers_go_on_across_clear_all(project: Path) -> None:
    """Live, ``/clear all`` zeroes the analytics but batch numbers go on; a resume must not reuse a number."""
    with SessionJournal(root=project, model="openai:gpt-x") as journal:
        journal.event(BatchFinished(1, 2, True, 10.0, 10.5, 0.75))
        journal.event(BatchFinished(2, 2, True, 11.0, 11.5, 0.75))
        journal.clear(totals=True)
    state = load_session(journal.id).state
    assert state.batches == [] and state.next_batch == 3
    assert state.activity_start == 3  # the pane shows nothing from before the clear
