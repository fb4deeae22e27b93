"""The session journal: an append-only JSONL file per conversation, the source of truth for resume.

Every message, tool timing, usage report, compaction, clear and settings change is one JSON line, written with
a single ``write`` as it happens, so a crash loses at most the line being written. Nothing is ever rewritten:
a compaction or a clear is a record of its own and the history before it stays in the file. Secrets are
masked before a line is encoded, never after.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import os
import secrets as _random
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from tunacode_tui import __version__
from tunacode_tui.config.paths import sessions_dir
from tunacode_tui.core.events import (
    AgentEvent,
    BatchFinished,
    BatchMeasured,
    ContextTrimmed,
    HistoryCleared,
    HistoryCompacted,
    MessageAppended,
    ModelChanged,
    Notice,
    SettingsChanged,
    ToolCallFinished,
    TurnEnded,
    TurnStarted,
    UsageUpdated,
)
from tunacode_tui.core.messages import Message
from tunacode_tui.core.state import SessionState
from tunacode_tui.session.redact import mask_data

log = logging.getLogger("tunacode.session")

FORMAT = 1
# The journal keeps a tool result only as a preview: the full text is already in the tool message.
RESULT_PREVIEW_CHARS = 2_000
SUFFIX = ".jsonl"

Sink = Callable[[AgentEvent], None]


class SessionFileError(Exception):
    """A session file that cannot be opened or has no usable header."""


def now_iso() -> str:
    """Local wall-clock time with its UTC offset: readable in the file, sortable, unambiguous."""
    return datetime.now().astimezone().isoformat(timespec="milliseconds")


def new_session_id(now: datetime | None = None) -> str:
    """``20261125-142501-ab12cd``: sorts by creation time, and the random tail keeps two same-second
    sessions apart."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{_random.token_hex(3)}"


def truncate(text: str, limit: int, where: str = "") -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[… truncated: {len(text):,} characters in all{where}]"


def encode_line(record: dict[str, Any]) -> bytes:
    """One record, one line. Non-ASCII stays readable; a lone surrogate (undecodable tool output) falls back
    to ``\\u`` escapes rather than failing the write."""
    # ``default=str``: a setting given as an object (a ``ModelRef``) is recorded by its name, not a crash.
    try:
        text = json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str)
        return (text + "\n").encode("utf-8")
    except UnicodeEncodeError:
        return (json.dumps(record, separators=(",", ":"), default=str) + "\n").encode("ascii")


def read_header(path: Path) -> dict[str, Any]:
    """The first record of a session file, which must be its ``session`` header."""
    try:
        with path.open("rb") as handle:
            first = handle.readline()
    except OSError as exc:
        raise SessionFileError(f"Cannot read the session file {path}: {exc.strerror or exc}.") from exc
    try:
        header = json.loads(first)
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("type") != "session":
        raise SessionFileError(
            f"{path} does not start with a tunacode session header; it is not a session file or it is damaged."
        )
    return header


def _create_file(folder: Path) -> tuple[int, Path, str]:
    """A new, private, empty session file: (descriptor, path, id)."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | getattr(os, "O_BINARY", 0)
    for _ in range(20):  # the random tail makes a collision rare; O_EXCL makes it harmless
        session_id = new_session_id()
        path = folder / f"{session_id}{SUFFIX}"
        try:
            return os.open(path, flags, 0o600), path, session_id
        except FileExistsError:
            continue
    # Twenty collisions in a row would mean a broken random source.
    raise FileExistsError(f"no free session id in {folder}")  # pragma: no cover


class SessionJournal:
    """Appends the records of one session to ``<sessions dir>/<id>.jsonl`` (mode 0600).

    Create one for a new conversation; use ``reopen`` to continue a resumed one in the same file.
    A failed write does not stop the conversation: ``failed`` says what happened and what to do.
    """

    def __init__(
        self,
        *,
        root: Path,
        model: str,
        secrets: Iterable[str] = (),
        directory: Path | None = None,
    ) -> None:
        folder = directory or sessions_dir()
        try:
            fd, path, session_id = _create_file(folder)
        except OSError as exc:
            raise SessionFileError(
                f"Cannot create a session file in {folder} ({exc.strerror or exc}). This session would not be "
                "saved; fix the folder's permissions or point TUNACODE_DATA_DIR somewhere writable."
            ) from exc
        self._setup(fd, path, session_id, str(Path(root).resolve()), str(model), secrets)
        self.created = now_iso()
        self._write(
            "session",
            id=self.id,
            created=self.created,
            root=self.root,
            model=self.model,
            version=__version__,
            format=FORMAT,
        )

    @classmethod
    def reopen(cls, path: Path | str, *, secrets: Iterable[str] = ()) -> SessionJournal:
        """Continue appending to an existing session file (resume)."""
        path = Path(path)
        header = read_header(path)
        try:
            fd = os.open(path, os.O_RDWR | os.O_APPEND | getattr(os, "O_BINARY", 0))
        except OSError as exc:
            raise SessionFileError(
                f"Cannot open the session file {path} for writing ({exc.strerror or exc}); check its permissions."
            ) from exc
        journal = cls.__new__(cls)
        journal._setup(
            fd, path, str(header.get("id", path.stem)), str(header.get("root", "")), str(header.get("model", "")),
            secrets,
        )
        journal.created = str(header.get("created", ""))
        try:
            if hasattr(os, "fchmod"):
                os.fchmod(fd, 0o600)  # an older or copied file may be readable by others
            # A process killed mid-write leaves a partial last line; start ours on a fresh line so only the
            # partial one is lost, not the first record of this run too.
            size = os.fstat(fd).st_size
            if size:
                os.lseek(fd, size - 1, os.SEEK_SET)
                journal._needs_newline = os.read(fd, 1) != b"\n"
        except OSError:
            journal.close()
            raise
        return journal

    def _setup(self, fd: int, path: Path, session_id: str, root: str, model: str, secrets: Iterable[str]) -> None:
        self._fd: int | None = fd
        self.path = path
        self.id = session_id
        self.root = root
        self.model = model
        self.created = ""
        self.secrets: tuple[str, ...] = tuple(secrets)
        self.failed: str | None = None
        self._needs_newline = False
        self._lock = threading.Lock()
        # Event times are ``time.monotonic()`` values, meaningless in another process; the journal stores them
        # as wall-clock epoch seconds so durations survive a resume and line up with ``ts``.
        self._anchor = (time.monotonic(), time.time())

    # -- writing ----------------------------------------------------------------------------------
    @property
    def closed(self) -> bool:
        return self._fd is None

    def _epoch(self, t: float) -> float:
        mono, wall = self._anchor
        return round(wall + (t - mono), 6)

    def _write(self, kind: str, *, sync: bool = False, **fields: Any) -> None:
        record = mask_data({"type": kind, "ts": now_iso(), **fields}, self.secrets)
        data = encode_line(record)
        with self._lock:
            if self._fd is None:
                return  # a late message after close (the app is exiting): nothing sensible to do
            if self._needs_newline:
                data = b"\n" + data
            try:
                view = memoryview(data)
                while view:
                    written = os.write(self._fd, view)
                    view = view[written:]
                self._needs_newline = False
                if sync:
                    os.fsync(self._fd)
            except OSError as exc:
                self._needs_newline = True
                if self.failed is None:
                    log.warning("session journal write failed: %s", exc)
                self.failed = (
                    f"Could not write the session journal {self.path} ({exc.strerror or exc}). "
                    "The conversation goes on, but it will not be resumable past this point; "
                    "free disk space or fix the folder's permissions."
                )

    def message(self, msg: Message) -> None:
        """A message appended to the live history (a ``MessageAppended`` event)."""
        self._write("message", message=msg.to_dict())

    def event(self, ev: object) -> bool:
        """Journal the events that replay needs (tool timings, batches, usage); ignore the rest.

        Returns whether ``ev`` was written.
        """
        if isinstance(ev, ToolCallFinished):
            self._write(
                "tool_call",
                batch=ev.batch,
                call_id=ev.call_id,
                name=ev.name,
                args=ev.args,
                ok=ev.ok,
                status=ev.status,
                started=self._epoch(ev.started),
                ended=self._epoch(ev.ended),
                duration=round(ev.duration, 6),
                result=truncate(ev.result, RESULT_PREVIEW_CHARS, "; the full text is in the tool message"),
                display=None if ev.display is None else truncate(ev.display, RESULT_PREVIEW_CHARS),
            )
        elif isinstance(ev, BatchFinished):
            self._write(
                "batch",
                batch=ev.batch,
                size=ev.size,
                parallel=ev.parallel,
                status=ev.status,
                started=self._epoch(ev.started),
                ended=self._epoch(ev.ended),
                # ``wall`` is the union of the call intervals (less than the span when calls started while
                # the model streamed): replay needs it as recorded, not recomputed from the span.
                wall=round(ev.wall, 6),
                busy=round(ev.busy, 6),
                overlap=round(ev.overlap, 3),
                cap=ev.cap,
            )
        elif isinstance(ev, BatchMeasured):
            self._write(
                "batch_measured",
                batch=ev.batch,
                size=ev.size,
                cap=ev.cap,
                runs=[{"mode": run.mode, "wall": round(run.wall, 6)} for run in ev.runs],
                changed=list(ev.changed),
                sequential_wall=round(ev.sequential_wall, 6),
                parallel_wall=round(ev.parallel_wall, 6),
                speedup=None if ev.speedup is None else round(ev.speedup, 3),
            )
        elif isinstance(ev, UsageUpdated):
            fields: dict[str, Any] = {
                "input_tokens": ev.usage.input_tokens,
                "output_tokens": ev.usage.output_tokens,
                "cache_read_tokens": ev.usage.cache_read_tokens,
                "cache_write_tokens": ev.usage.cache_write_tokens,
                "cost": ev.cost,
                "context_tokens": ev.context_tokens,
                "context_window": ev.context_window,
            }
            if ev.purpose != "turn":  # a compaction summary: replay counts it apart
                fields["purpose"] = ev.purpose
            self._write("usage", **fields)
        elif isinstance(ev, ContextTrimmed):
            # What was cleared, summarised, dropped or cut; the history before it stays in the earlier records.
            self._write("context_trimmed", what=ev.kind, count=ev.count, before=ev.before, after=ev.after)
        else:
            return False
        return True

    def compaction(self, summary: str, kept_count: int, messages: list[Message]) -> None:
        """The live history was replaced by ``messages`` (a summary plus ``kept_count`` recent messages).

        The new history is recorded in full so replay is exact; the records before stay untouched.
        """
        self._write(
            "compaction",
            sync=True,
            summary=summary,
            kept_count=kept_count,
            messages=[m.to_dict() for m in messages],
        )

    def todos(self, todos: list[dict[str, Any]]) -> None:
        self._write("todos", todos=copy.deepcopy(todos))

    def clear(self, *, totals: bool = False) -> None:
        """``/clear``: the live history and todos start over; ``totals`` also zeroes tokens, cost and timings."""
        self._write("clear", sync=True, totals=totals)

    def settings(self, **changes: Any) -> None:
        """A per-session choice changed: ``model``, ``yolo``, ``max_iterations``."""
        self._write("settings", changes=changes)

    def sync(self) -> None:
        with self._lock:
            if self._fd is not None:
                try:
                    os.fsync(self._fd)
                except OSError as exc:  # pragma: no cover - fsync failing on a healthy disk is rare
                    log.warning("session journal fsync failed: %s", exc)

    def close(self) -> None:
        with self._lock:
            fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):  # closing must not fail because the disk is full
                os.fsync(fd)
            os.close(fd)

    def __enter__(self) -> SessionJournal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SessionJournal({str(self.path)!r})"


class JournalListener:
    """Journals everything an agent reports: one more listener of its event stream (``Agent.subscribe``).

    Messages, compactions, clears and model switches arrive as their own events; tool timings, batches and
    usage as the turn's events. Todo changes are noticed after each tool call, since the todo tool edits
    the shared list in place. A failed write is reported once through ``report`` (the agent's ``publish``),
    so the user learns the session stopped being saved; a failure between turns (``/model``, ``/clear``) is
    reported when the next turn starts, since only a running turn has someone to tell.
    """

    def __init__(
        self, journal: SessionJournal, state: SessionState, *, report: Sink | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.journal = journal
        self.state = state
        self.report = report
        self.clock = clock
        self._todos = copy.deepcopy(state.todos)
        self._reported = journal.failed is not None
        self._in_turn = False

    def __call__(self, event: AgentEvent) -> None:
        journal = self.journal
        match event:
            case MessageAppended(message=message):
                journal.message(message)
            case HistoryCompacted(summary=summary, kept_count=kept, messages=messages):
                journal.compaction(summary, kept, messages)
            case HistoryCleared(totals=totals):
                journal.clear(totals=totals)
                self._todos = []  # replaying the clear empties the todos: the next list must be written
            case ModelChanged(model=model):
                journal.settings(model=model)
            case SettingsChanged(changes=changes):
                journal.settings(**changes)
            case _:
                journal.event(event)
        if isinstance(event, TurnStarted | TurnEnded):
            self._in_turn = isinstance(event, TurnStarted)
        if isinstance(event, ToolCallFinished | TurnEnded) and self.state.todos != self._todos:
            self._todos = copy.deepcopy(self.state.todos)
            journal.todos(self._todos)
        if journal.failed is not None and not self._reported and self._in_turn and self.report is not None:
            self._reported = True
            self.report(Notice("error", journal.failed, self.clock()))
