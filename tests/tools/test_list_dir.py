from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.tools.helpers import call
from tunacode_tui.tools.base import ToolContext, ToolError
from tunacode_tui.tools.list_dir import ListDirTool, human_size
from tunacode_tui.tools.read_cache import get_read_cache

tool = ListDirTool()


async def test_folders_first_with_sizes(ctx: ToolContext, root: Path) -> None:
    (root / "zeta").mkdir()
    (root / "Alpha").mkdir()
    (root / "b.txt").write_bytes(b"x" * 1536)
    (root / "a.txt").write_bytes(b"x" * 10)
    (root / ".env").write_text("hidden")
    out = await call(tool, ctx)
    assert out.content.splitlines() == [
        "./ (2 folders, 2 files)",
        "Alpha/",
        "zeta/",
        "a.txt  10 B",
        "b.txt  1.5 KB",
        "[1 hidden entries not shown; pass show_hidden=true to see them]",
    ]
    shown = await call(tool, ctx, show_hidden=True)
    assert ".env  6 B" in shown.content.splitlines()


async def test_cap_and_links(ctx: ToolContext, root: Path, outside: Path) -> None:
    for i in range(5):
        (root / f"f{i}").write_text("")
    (root / "link").symlink_to(outside)
    (root / "dangling").symlink_to(root / "nowhere")
    out = await call(tool, ctx, max_entries=3)
    lines = out.content.splitlines()
    assert lines[1] == f"link/ -> {outside} (outside the project)"
    assert lines[-1].startswith("[truncated: showing 3 of 7 entries")
    full = await call(tool, ctx, max_entries=100)
    assert any(line.startswith("dangling -> ") and "broken" in line for line in full.content.splitlines())


async def test_listing_is_cached_by_folder_mtime(ctx: ToolContext, root: Path) -> None:
    (root / "a").write_text("")
    await call(tool, ctx)
    await call(tool, ctx)
    assert get_read_cache(ctx).hits == 1
    (root / "b").write_text("")
    os.utime(root, ns=(5_000_000_000, 5_000_000_000))  # make the folder change visible to the key
    out = await call(tool, ctx)
    assert "b  0 B" in out.content.splitlines()


async def test_errors(ctx: ToolContext, root: Path) -> None:
    (root / "file.txt").write_text("")
    with pytest.raises(ToolError, match="read_file"):
        await call(tool, ctx, path="file.txt")
    with pytest.raises(ToolError, match="not found"):
        await call(tool, ctx, path="missing")
    with pytest.raises(ToolError, match="'max_entries' must be an integer"):
        await call(tool, ctx, max_entries="5")


@pytest.mark.parametrize(
    ("size", "text"),
    [(0, "0 B"), (1023, "1023 B"), (1024, "1.0 KB"), (5 * 1024**2, "5.0 MB"), (3 * 1024**4, "3072.0 GB")],
)
def test_human_size(size: int, text: str) -> None:
    assert human_size(size) == text


async def test_links_to_outside_files_show_no_size(ctx: ToolContext, root: Path, outside: Path) -> None:
    """list_dir showed the size of a file outside the project behind a symlink (issue 12, item 5)."""
    (outside / "secret.txt").write_text("x" * 12345)
    (root / "peek").symlink_to(outside / "secret.txt")
    (root / "mine.txt").write_text("abc")
    (root / "near").symlink_to(root / "mine.txt")
    out = await call(ListDirTool(), ctx)
    lines = out.content.splitlines()
    peek = next(line for line in lines if line.startswith("peek"))
    assert "outside the project" in peek and "12" not in peek.split("->")[0] + peek.split(")")[-1]
    assert "12.1 KB" not in out.content and "12345" not in out.content
    assert any(line.startswith("near -> ") and line.endswith("3 B") for line in lines)
