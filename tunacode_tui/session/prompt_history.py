"""The prompts typed in a project, kept across sessions so Up/Down recalls them after a restart.

One small JSON-lines file per project under the data folder (``history/<hash of the project path>.jsonl``),
private (0600) like the session journals, since prompts can hold anything. It is bounded: past
``MAX_ENTRIES + SLACK`` lines it is rewritten, atomically, with the newest ``MAX_ENTRIES``. A file that cannot
be read or written costs only the recall, never the prompt: problems are logged, not raised.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path

from tunacode_tui.config.paths import data_dir

log = logging.getLogger("tunacode.history")

MAX_ENTRIES = 500
SLACK = 100  # appended lines tolerated past the bound before the file is rewritten


def history_file(root: Path) -> Path:
    digest = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]
    return data_dir() / "history" / f"{digest}.jsonl"


class PromptHistory:
    """The project's past prompts, oldest first; ``add`` appends one to memory and to the file."""

    def __init__(self, root: Path, *, limit: int = MAX_ENTRIES) -> None:
        self.path = history_file(root)
        self.limit = limit
        self.entries, self._lines = self._read()
        self.entries = self.entries[-limit:]

    def _read(self) -> tuple[list[str], int]:
        """The prompts in the file, oldest first, and its line count (an unreadable file is empty)."""
        try:
            raw = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            raw = []
        except (OSError, UnicodeDecodeError) as exc:
            log.warning("prompt history %s cannot be read: %s", self.path, exc)
            raw = []
        prompts: list[str] = []
        for line in raw:
            with contextlib.suppress(ValueError, TypeError, KeyError):
                prompt = json.loads(line)["prompt"]
                if isinstance(prompt, str) and prompt:
                    prompts.append(prompt)
        return prompts, len(raw)

    def add(self, prompt: str) -> None:
        if not prompt or (self.entries and self.entries[-1] == prompt):
            return
        self.entries.append(prompt)
        del self.entries[: -self.limit]
        try:
            if self._lines + 1 > self.limit + SLACK:
                self._rewrite(prompt)
            else:
                self._append(prompt)
        except OSError as exc:
            log.warning("prompt history %s cannot be written: %s", self.path, exc)

    def _append(self, prompt: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"prompt": prompt}) + "\n")
        self._lines += 1

    def _rewrite(self, prompt: str) -> None:
        """Keep the newest ``limit`` of what the file holds now, not of this session's memory: another
        session of the same project may have appended prompts since this one loaded, and they must stay."""
        kept = [*self._read()[0], prompt][-self.limit:]
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=".history-", suffix=".jsonl", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:  # mkstemp files are 0600
                fh.writelines(json.dumps({"prompt": p}) + "\n" for p in kept)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        self._lines = len(kept)
