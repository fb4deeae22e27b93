"""Finding sessions: filtered by project, most recently active first, addressable by id, prefix or path."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from tests.session.helpers import sample_conversation
from tunacode_tui.core.messages import Message
from tunacode_tui.session import journal as journal_module
from tunacode_tui.session.journal import SessionFileError, SessionJournal
from tunacode_tui.session.store import SessionNotFound, latest_session, list_sessions, load_session


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Record timestamps one minute apart, so recency is decided by the test, not by the machine's speed."""
    minutes = itertools.count()
    monkeypatch.setattr(
        journal_module, "now_iso", lambda: f"2026-11-25T14:{next(minutes):02d}:00.000+00:00"
    )


def test_list_filters_by_root_and_orders_by_last_activity(tmp_path: Path, clock: None) -> None:
    first, other = tmp_path / "first", tmp_path / "other"
    first.mkdir()
    other.mkdir()
    older = SessionJournal(root=first, model="openai:a")
    older.message(Message.user("  the first   question\nspans lines "))
    middle = SessionJournal(root=other, model="openai:b")
    middle.message(Message.user("elsewhere"))
    newer = SessionJournal(root=first, model="openai:c")
    newer.message(Message.user("second session"))
    older.message(Message.assistant("picked up again later"))  # now the most recently active
    older.settings(model="anthropic:d")
    for journal in (older, middle, newer):
        journal.close()

    here = list_sessions(first)
    assert [s.id for s in here] == [older.id, newer.id]
    assert here[0].preview == "the first question spans lines"
    assert here[0].messages == 2 and here[0].model == "anthropic:d"
    assert here[0].root == str(first.resolve()) and here[0].path == older.path
    assert here[0].created is not None and here[0].last_activity is not None
    assert here[0].created < here[0].last_activity
    assert [s.id for s in list_sessions()] == [older.id, newer.id, middle.id]
    assert latest_session(other).id == middle.id  # type: ignore[union-attr]
    assert latest_session(tmp_path / "nowhere") is None


def test_message_count_follows_compaction_and_clear(project: Path) -> None:
    with SessionJournal(root=project, model="m") as journal:
        for message in sample_conversation():
            journal.message(message)
        journal.compaction("s", 0, [Message.user("summary"), Message.assistant("ok")])
        journal.message(Message.user("more"))
    assert list_sessions(project)[0].messages == 3
    with SessionJournal.reopen(journal.path) as again:
        again.clear()
    info = list_sessions(project)[0]
    assert info.messages == 0 and info.preview == "Find the config loader and explain it."


def test_list_skips_files_that_are_not_sessions(project: Path, data_dir: Path) -> None:
    with SessionJournal(root=project, model="m") as journal:
        journal.message(Message.user("real"))
    (data_dir / "sessions" / "junk.jsonl").write_text("not json\n")
    (data_dir / "sessions" / "empty.jsonl").write_text("")
    assert [s.id for s in list_sessions()] == [journal.id]
    with pytest.raises(SessionFileError, match="session header"):
        load_session("junk")


def test_load_by_prefix_or_path_and_helpful_errors(project: Path) -> None:
    with SessionJournal(root=project, model="m") as journal:
        journal.message(Message.user("hi"))
    assert load_session(journal.id[:-2]).id == journal.id
    assert load_session(str(journal.path)).id == journal.id
    with pytest.raises(SessionNotFound, match="No saved session matches 'nope'"):
        load_session("nope")
    with pytest.raises(SessionNotFound, match="no session file"):
        load_session(project / "missing.jsonl")
    SessionJournal(root=project, model="m").close()
    with pytest.raises(SessionNotFound, match="give more of the id"):
        load_session(journal.id[:1])


def test_a_resumed_session_starts_from_the_servers_count(project: Path) -> None:
    """The last usage record (what the server counted) seeds the resumed gauge, unless the history was
    rewritten after it; a local estimate would be off by the server's tokenizer and template."""
    from tunacode_tui.core.events import UsageUpdated
    from tunacode_tui.core.messages import Usage

    def usage(tokens: int) -> UsageUpdated:
        return UsageUpdated(Usage(input_tokens=tokens - 10, output_tokens=10), 0.0, Usage(), 0.0, Usage(), 0.0,
                            tokens, 4096, 0.0)

    with SessionJournal(root=project, model="openai-compatible:m") as journal:
        journal.message(Message.user("question"))
        journal.message(Message.assistant("answer"))
        journal.event(usage(3010))
        journal.message(Message.user("next"))
    loaded = load_session(str(journal.path))
    assert loaded.context_report == (2, 3010)

    with SessionJournal(root=project, model="openai-compatible:m") as journal:
        journal.message(Message.user("question"))
        journal.message(Message.assistant("answer"))
        journal.event(usage(3010))
        journal.compaction("summary", 1, [Message.user("summary"), Message.assistant("answer")])
    assert load_session(str(journal.path)).context_report is None
