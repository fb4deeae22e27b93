"""A byte-bounded LRU of decoded files and folder listings, shared by the read-only tools.

Keys carry ``mtime_ns`` and size, so a change on disk misses naturally; our own writes call
``invalidate`` because a rewrite can land within the same mtime tick.
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tunacode_tui.tools.base import ToolContext

DEFAULT_MAX_BYTES = 32 * 1024 * 1024
_LISTING_ENTRY_COST = 128


@dataclass(frozen=True, slots=True)
class CachedText:
    """A decoded file as read_file needs it: lines without their endings, plus what the guards need."""

    lines: tuple[str, ...]
    encoding: str
    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class _Slot:
    value: Any
    cost: int


class ReadCache:
    """LRU keyed by ``("text", path, mtime_ns, size)`` or ``("dir", path, mtime_ns)``, bounded in bytes."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self.used_bytes = 0
        self.hits = 0
        self.misses = 0
        self._slots: OrderedDict[tuple[Any, ...], _Slot] = OrderedDict()
        # Tools run on one loop, but the lock keeps the cache safe if a thread ever touches it.
        self._lock = threading.Lock()

    def get_text(self, path: Path, mtime_ns: int, size: int) -> CachedText | None:
        return self._get(("text", str(path), mtime_ns, size))

    def put_text(self, path: Path, mtime_ns: int, size: int, entry: CachedText) -> None:
        cost = sum(map(sys.getsizeof, entry.lines)) + 8 * len(entry.lines) + 256
        self._put(("text", str(path), mtime_ns, size), entry, cost)

    def get_listing(self, path: Path, mtime_ns: int) -> Any | None:
        return self._get(("dir", str(path), mtime_ns))

    def put_listing(self, path: Path, mtime_ns: int, listing: Any, entries: int) -> None:
        self._put(("dir", str(path), mtime_ns), listing, _LISTING_ENTRY_COST * (entries + 1))

    def invalidate(self, path: Path) -> None:
        """Forget a file and its folder's listing (a new file changes the listing)."""
        targets = {str(path), str(Path(path).parent)}
        with self._lock:
            for key in [k for k in self._slots if k[1] in targets]:
                self.used_bytes -= self._slots.pop(key).cost

    def clear(self) -> None:
        with self._lock:
            self._slots.clear()
            self.used_bytes = 0

    def __len__(self) -> int:
        return len(self._slots)

    def _get(self, key: tuple[Any, ...]) -> Any | None:
        with self._lock:
            slot = self._slots.get(key)
            if slot is None:
                self.misses += 1
                return None
            self._slots.move_to_end(key)
            self.hits += 1
            return slot.value

    def _put(self, key: tuple[Any, ...], value: Any, cost: int) -> None:
        if cost > self.max_bytes:
            return  # would evict everything else for one entry
        with self._lock:
            # Older versions of the same path are dead weight once a newer one is stored.
            for stale in [k for k in self._slots if k[0] == key[0] and k[1] == key[1] and k != key]:
                self.used_bytes -= self._slots.pop(stale).cost
            old = self._slots.pop(key, None)
            if old is not None:
                self.used_bytes -= old.cost
            self._slots[key] = _Slot(value, cost)
            self.used_bytes += cost
            while self.used_bytes > self.max_bytes:
                _, evicted = self._slots.popitem(last=False)
                self.used_bytes -= evicted.cost


def get_read_cache(ctx: ToolContext) -> ReadCache:
    """The session's read cache, created on first use."""
    cache = ctx.services.get("read_cache")
    if cache is None:
        cache = ctx.services["read_cache"] = ReadCache()
    return cache


def get_file_hashes(ctx: ToolContext) -> dict[str, str]:
    """Path -> sha256 of the content as the model last read or wrote it (the stale-write guard)."""
    hashes = ctx.services.get("file_hashes")
    if hashes is None:
        hashes = ctx.services["file_hashes"] = {}
    return hashes


STAT_PREFIX = "stat:"


def stat_token(signature: tuple[int, int, int] | None) -> str:
    """What read_file notes for a file it streamed in windows (never hashed whole): inode, size and
    mtime, so update_file can still refuse an edit to a file that changed since it was read."""
    return STAT_PREFIX + ":".join(map(str, signature or ()))
