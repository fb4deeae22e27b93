from __future__ import annotations

from pathlib import Path

from tunacode_tui.tools.base import ToolContext
from tunacode_tui.tools.read_cache import CachedText, ReadCache, get_file_hashes, get_read_cache


def _entry(n_lines: int, width: int = 100) -> CachedText:
    return CachedText(tuple("x" * width for _ in range(n_lines)), "utf-8", "0" * 64, n_lines * width)


def test_bounded_in_bytes_evicts_least_recently_used() -> None:
    cache = ReadCache(max_bytes=60_000)
    for name in ("a", "b", "c"):
        cache.put_text(Path(name), 1, 1, _entry(100))  # ~15 KB each
    assert cache.get_text(Path("a"), 1, 1) is not None  # a is now most recent
    cache.put_text(Path("d"), 1, 1, _entry(200))
    assert cache.used_bytes <= cache.max_bytes
    assert cache.get_text(Path("b"), 1, 1) is None
    assert cache.get_text(Path("a"), 1, 1) is not None


def test_oversized_entry_is_not_cached() -> None:
    cache = ReadCache(max_bytes=1000)
    cache.put_text(Path("big"), 1, 1, _entry(100))
    assert len(cache) == 0


def test_key_includes_mtime_and_size_and_new_version_replaces_old() -> None:
    cache = ReadCache()
    cache.put_text(Path("f"), 1, 10, _entry(1))
    assert cache.get_text(Path("f"), 2, 10) is None
    assert cache.get_text(Path("f"), 1, 11) is None
    cache.put_text(Path("f"), 2, 10, _entry(1))
    assert len(cache) == 1


def test_invalidate_drops_file_and_parent_listing(tmp_path: Path) -> None:
    cache = ReadCache()
    file = tmp_path / "f.txt"
    cache.put_text(file, 1, 1, _entry(1))
    cache.put_listing(tmp_path, 5, ["f.txt"], 1)
    cache.put_text(tmp_path / "other.txt", 1, 1, _entry(1))
    cache.invalidate(file)
    assert cache.get_text(file, 1, 1) is None
    assert cache.get_listing(tmp_path, 5) is None
    assert cache.get_text(tmp_path / "other.txt", 1, 1) is not None


def test_services_are_created_lazily_once(root: Path) -> None:
    ctx = ToolContext(root=root)
    cache = get_read_cache(ctx)
    assert get_read_cache(ctx) is cache is ctx.services["read_cache"]
    hashes = get_file_hashes(ctx)
    assert get_file_hashes(ctx) is hashes is ctx.services["file_hashes"]
