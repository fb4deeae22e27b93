"""Finding saved sessions and replaying a journal into a live ``SessionState`` (resume).

Replay is forgiving by design: a process killed mid-write leaves a partial last line, and a process killed
mid-tool leaves calls without results. Both are repaired and reported in ``LoadedSession.warnings`` rather
than refusing to load the user's work.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from tunacode_tui.config.paths import sessions_dir
from tunacode_tui.core.events import BatchFinished, BatchMeasured, MeasuredRun, ToolCallFinished
from tunacode_tui.core.messages import Message, ToolResultPart, Usage
from tunacode_tui.core.state import SessionState
from tunacode_tui.session.journal import SUFFIX, SessionFileError, SessionJournal, read_header

PREVIEW_CHARS = 80
INTERRUPTED_RESULT = "Cancelled: the session ended before this tool finished. Run it again if it is still needed."


class SessionNotFound(SessionFileError, LookupError):
    """No saved session matches the id or path the user gave."""


@dataclass(slots=True)
class SessionInfo:
    """One line of the session list: enough to recognise a conversation without replaying it."""

    id: str
    path: Path
    created: datetime | None
    root: str
    model: str
    messages: int  # live history length, as a resume would restore it
    preview: str  # the first user prompt, shortened
    last_activity: datetime | None


@dataclass(slots=True)
class LoadedSession:
    """A replayed journal: the state to hand to a new ``Agent``, and what had to be repaired on the way."""

    id: str
    path: Path
    root: str
    model: str
    created: str
    state: SessionState
    warnings: list[str] = field(default_factory=list)
    # Messages added at the end of the history to close tool calls that never got results: a resume journals
    # them so the file and the live history agree.
    repaired: list[Message] = field(default_factory=list)
    # The last value of every per-session setting recorded (model, yolo, max_iterations, ...).
    settings: dict[str, Any] = field(default_factory=dict)
    # (messages covered, tokens) of the last usage record with no rewrite of the history after it: what the
    # server counted, so a resumed session's gauge and budget start from the truth, not a local estimate.
    context_report: tuple[int, int] | None = None


# -- reading --------------------------------------------------------------------------------------

def read_records(path: Path) -> tuple[list[tuple[int, dict[str, Any]]], list[str]]:
    """Every decodable record with its line number, and a warning per line that is not."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SessionFileError(f"Cannot read the session file {path}: {exc.strerror or exc}.") from exc
    lines = data.split(b"\n")
    records: list[tuple[int, dict[str, Any]]] = []
    warnings: list[str] = []
    last = len(lines) - 1
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise ValueError("not an object")
        except ValueError:
            if number - 1 == last:
                warnings.append(
                    f"The last line of {path.name} was cut off (the program stopped while writing it); "
                    "that one record was skipped."
                )
            else:
                warnings.append(f"Line {number} of {path.name} is damaged and was skipped.")
            continue
        records.append((number, record))
    return records, warnings


def _resolve(id_or_path: str | Path, directory: Path | None) -> Path:
    text = str(id_or_path)
    direct = Path(text).expanduser()
    folder = directory or sessions_dir()
    if isinstance(id_or_path, Path) or os.sep in text or "/" in text:
        if direct.is_file():
            return direct
        raise SessionNotFound(f"There is no session file at {direct}.")
    for candidate in (folder / f"{text}{SUFFIX}", folder / text, direct):
        if text and candidate.name.endswith(SUFFIX) and candidate.is_file():
            return candidate
    # A unique prefix is enough, like git: ids are long to type. (Not a glob: ids never contain wildcards.)
    names = folder.iterdir() if text and folder.is_dir() else iter(())
    matches = sorted(p for p in names if p.name.startswith(text) and p.name.endswith(SUFFIX))
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        shown = ", ".join(p.stem for p in matches[:5])
        raise SessionNotFound(f"'{text}' matches {len(matches)} sessions ({shown}); give more of the id.")
    raise SessionNotFound(
        f"No saved session matches '{text}' in {folder}. Session ids are the file names there (without .jsonl)."
    )


# -- replay ---------------------------------------------------------------------------------------

def _usage(record: dict[str, Any]) -> Usage:
    return Usage(
        int(record.get("input_tokens", 0)),
        int(record.get("output_tokens", 0)),
        int(record.get("cache_read_tokens", 0)),
        int(record.get("cache_write_tokens", 0)),
    )


def _call(record: dict[str, Any]) -> ToolCallFinished:
    return ToolCallFinished(
        batch=int(record["batch"]),
        call_id=str(record["call_id"]),
        name=str(record["name"]),
        args=dict(record.get("args") or {}),
        ok=bool(record["ok"]),
        result=str(record.get("result", "")),
        display=record.get("display"),
        started=float(record["started"]),
        ended=float(record["ended"]),
        status=record.get("status", "done"),
    )


def _batch(record: dict[str, Any]) -> BatchFinished:
    """A batch as it was live. ``wall`` is the recorded active time (the union of the call intervals), which
    is less than the span when calls started while the model streamed; recomputing it from ``started`` and
    ``ended`` would charge the model's typing time to the batch. Files from before ``overlap`` was named
    carry a ``speedup`` field that held the same busy/wall ratio: it is ignored, since busy and wall say it."""
    started = float(record["started"])
    ended = float(record["ended"])
    wall = record.get("wall")
    return BatchFinished(
        batch=int(record["batch"]),
        size=int(record["size"]),
        parallel=bool(record["parallel"]),
        started=started,
        ended=ended,
        busy=float(record["busy"]),
        status=record.get("status", "done"),
        active=None if wall is None else min(float(wall), ended - started),
        cap=None if record.get("cap") is None else int(record["cap"]),
    )


def _measured(record: dict[str, Any]) -> BatchMeasured:
    runs = [MeasuredRun("parallel" if r["mode"] == "parallel" else "sequential", float(r["wall"]))
            for r in record["runs"]]
    return BatchMeasured(
        batch=int(record["batch"]),
        size=int(record["size"]),
        cap=int(record.get("cap", 1)),
        runs=runs,
        changed=[str(name) for name in record.get("changed") or []],
    )


def repair_history(messages: list[Message]) -> int:
    """Give every tool call a result, in place, so the history is valid for the next request.

    Providers reject a history where an assistant's tool call is not answered by the following tool message;
    a process killed mid-tool leaves exactly that. Returns the number of results added.
    """
    added = 0
    i = 0
    while i < len(messages):
        message = messages[i]
        calls = message.tool_calls if message.role == "assistant" else []
        if calls:
            following = messages[i + 1] if i + 1 < len(messages) else None
            answered = {r.tool_call_id for r in following.tool_results} if following is not None else set()
            missing = [
                ToolResultPart(c.id, c.name, INTERRUPTED_RESULT, is_error=True) for c in calls if c.id not in answered
            ]
            if missing:
                added += len(missing)
                if following is not None and following.role == "tool":
                    following.parts.extend(missing)
                else:
                    messages.insert(i + 1, Message("tool", list(missing)))
        i += 1
    return added


def replay(records: Iterable[tuple[int, dict[str, Any]]], loaded: LoadedSession) -> None:
    """Apply journal records, in order, to ``loaded`` (its state, model and settings)."""
    state = loaded.state
    unknown: set[str] = set()
    for number, record in records:
        kind = record.get("type")
        try:
            if kind == "message":
                state.messages.append(Message.from_dict(record["message"]))
            elif kind == "compaction":
                state.messages[:] = [Message.from_dict(m) for m in record["messages"]]
                loaded.context_report = None
            elif kind == "clear":
                state.clear_conversation()
                loaded.context_report = None
                if record.get("totals"):
                    state.reset_totals()
            elif kind == "todos":
                state.todos[:] = list(record["todos"])
            elif kind == "usage":
                if (record.get("purpose", "turn") == "turn" and isinstance(record.get("context_tokens"), int)
                        and record["context_tokens"] > 0):
                    loaded.context_report = (len(state.messages), record["context_tokens"])
                state.usage = state.usage + _usage(record)
                state.cost.add(record.get("cost"))
                state.requests += 1
                if record.get("purpose") == "compaction":
                    state.compactions += 1
                    state.compaction_usage = state.compaction_usage + _usage(record)
                    state.compaction_cost.add(record.get("cost"))
            elif kind == "tool_call":
                state.calls.append(_call(record))
                state.next_batch = max(state.next_batch, state.calls[-1].batch + 1)
            elif kind == "batch":
                state.batches.append(_batch(record))
                # Numbers go on across ``/clear all`` live, so they do here too: a batch keeps its number.
                state.next_batch = max(state.next_batch, state.batches[-1].batch + 1)
            elif kind == "batch_measured":
                measured = _measured(record)
                state.measurements[measured.batch] = measured
            elif kind == "settings":
                changes = dict(record["changes"])
                loaded.settings.update(changes)
                if "model" in changes:
                    loaded.model = str(changes["model"])
                if "max_iterations" in changes:
                    state.max_iterations = int(changes["max_iterations"])
            elif kind in ("session", "context_trimmed"):
                continue  # a context_trimmed record explains the compaction record beside it; nothing to apply
            else:
                unknown.add(str(kind))
        except (KeyError, TypeError, ValueError) as exc:
            loaded.warnings.append(f"Line {number} ({kind} record) could not be applied ({exc!r}) and was skipped.")
    if unknown:
        loaded.warnings.append(
            f"Records of unknown type ({', '.join(sorted(unknown))}) were ignored; "
            "the file may come from a newer tunacode."
        )


def load_session(id_or_path: str | Path, *, directory: Path | None = None) -> LoadedSession:
    """Replay a session (by id, unique id prefix, or file path) into a fresh ``SessionState``.

    ``yolo`` and allowed tools are deliberately not restored into the state: permission to run writes
    unasked is given by the user in this run, never by a file on disk. Their recorded values are in
    ``settings`` for the UI to offer.
    """
    path = _resolve(id_or_path, directory)
    header = read_header(path)
    records, warnings = read_records(path)
    loaded = LoadedSession(
        id=str(header.get("id", path.stem)),
        path=path,
        root=str(header.get("root", "")),
        model=str(header.get("model", "")),
        created=str(header.get("created", header.get("ts", ""))),
        state=SessionState(),
        warnings=warnings,
    )
    replay(records, loaded)
    messages = loaded.state.messages
    ends_open = bool(messages) and messages[-1].role == "assistant" and bool(messages[-1].tool_calls)
    added = repair_history(messages)
    if added:
        if ends_open:  # the added tool message is last: it can be appended to the journal on resume
            loaded.repaired = [messages[-1]]
        loaded.warnings.append(
            f"{added} tool call(s) had no result (the session stopped while they ran); "
            "they were marked as cancelled."
        )
    return loaded


def resume_session(
    id_or_path: str | Path, *, secrets: Iterable[str] = (), directory: Path | None = None
) -> tuple[LoadedSession, SessionJournal]:
    """Load a session and reopen its journal, so the conversation continues in the same file."""
    loaded = load_session(id_or_path, directory=directory)
    journal = SessionJournal.reopen(loaded.path, secrets=secrets)
    for message in loaded.repaired:
        journal.message(message)
    return loaded, journal


# -- listing --------------------------------------------------------------------------------------

def _parse_time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _preview(message: Message) -> str:
    text = " ".join(message.text.split())
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"


def _summarize(path: Path, want_root: str | None) -> SessionInfo | None:
    header = read_header(path)
    root = str(header.get("root", ""))
    if want_root is not None and root != want_root:
        return None
    model = str(header.get("model", ""))
    count = 0
    preview = ""
    last_ts: Any = None
    # Messages are most of the file: count them by prefix (the journal writes ``type`` first, compactly) and
    # decode only what the summary needs.
    for line in path.read_bytes().split(b"\n"):
        if not line.strip():
            continue
        if line.startswith(b'{"type":"message"') and preview:
            count += 1
            ts_at = line.find(b'"ts":"')
            if ts_at != -1:
                last_ts = line[ts_at + 6 : line.find(b'"', ts_at + 6)].decode("utf-8", "replace")
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict):
            continue
        last_ts = record.get("ts", last_ts)
        kind = record.get("type")
        if kind == "message":
            count += 1
            try:
                message = Message.from_dict(record["message"])
            except (KeyError, TypeError, ValueError):
                continue
            if message.role == "user" and not message.tool_results and message.text.strip():
                preview = _preview(message)
        elif kind == "compaction":
            count = len(record.get("messages") or [])
        elif kind == "clear":
            count = 0
        elif kind == "settings" and "model" in (record.get("changes") or {}):
            model = str(record["changes"]["model"])
    last = _parse_time(last_ts) if last_ts else None
    if last is None:
        last = datetime.fromtimestamp(path.stat().st_mtime).astimezone()
    return SessionInfo(
        id=str(header.get("id", path.stem)),
        path=path,
        created=_parse_time(header.get("created", header.get("ts", ""))),
        root=root,
        model=model,
        messages=count,
        preview=preview or "(no prompt yet)",
        last_activity=last,
    )


def list_sessions(root: Path | None = None, *, directory: Path | None = None) -> list[SessionInfo]:
    """Saved sessions, most recently active first; only those started in ``root`` when it is given.

    Files that are not readable sessions are left out rather than failing the whole list.
    """
    folder = directory or sessions_dir()
    if not folder.is_dir():
        return []
    want = str(Path(root).resolve()) if root is not None else None
    found: list[SessionInfo] = []
    for path in folder.glob(f"*{SUFFIX}"):
        try:
            info = _summarize(path, want)
        except (OSError, SessionFileError):
            continue
        if info is not None:
            found.append(info)

    def recency(info: SessionInfo) -> tuple[float, str]:
        return (info.last_activity.timestamp() if info.last_activity else 0.0, info.id)

    return sorted(found, key=recency, reverse=True)


def latest_session(root: Path | None = None, *, directory: Path | None = None) -> SessionInfo | None:
    """The session to continue by default: the most recently active one in ``root``."""
    sessions = list_sessions(root, directory=directory)
    return sessions[0] if sessions else None
