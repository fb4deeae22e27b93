from __future__ import annotations

import hashlib
import stat
from pathlib import Path

import pytest

from tests.tools.helpers import call
from tunacode_tui.tools.base import ToolContext, ToolError
from tunacode_tui.tools.list_dir import ListDirTool
from tunacode_tui.tools.read_cache import get_file_hashes
from tunacode_tui.tools.update_file import UpdateFileTool
from tunacode_tui.tools.write_file import WriteFileTool

tool = WriteFileTool()


async def test_creates_file_and_parents(ctx: ToolContext, root: Path) -> None:
    out = await call(tool, ctx, file_path="new dir/sub/ünï.py", content="a = 1\nb = 2\n")
    path = root / "new dir" / "sub" / "ünï.py"
    assert path.read_bytes() == b"a = 1\nb = 2\n"
    assert out.content == "Created new dir/sub/ünï.py (2 lines, 12 bytes)."
    assert out.display is not None
    assert out.display.splitlines() == [
        "--- /dev/null",
        "+++ b/new dir/sub/ünï.py",
        "@@ -0,0 +1,2 @@",
        "+a = 1",
        "+b = 2",
    ]
    assert out.metadata == {"path": "new dir/sub/ünï.py", "lines": 2, "bytes": 12}
    assert tool.read_only is False


async def test_refuses_to_overwrite(ctx: ToolContext, root: Path) -> None:
    (root / "f.txt").write_text("keep")
    with pytest.raises(ToolError, match=r"already exists.*update_file"):
        await call(tool, ctx, file_path="f.txt", content="clobber")
    assert (root / "f.txt").read_text() == "keep"
    (root / "d").mkdir()
    with pytest.raises(ToolError, match="folder"):
        await call(tool, ctx, file_path="d", content="x")


async def test_parent_is_a_file(ctx: ToolContext, root: Path) -> None:
    (root / "f.txt").write_text("")
    with pytest.raises(ToolError, match="parent"):
        await call(tool, ctx, file_path="f.txt/child", content="x")


async def test_confinement(ctx: ToolContext, root: Path, outside: Path) -> None:
    (root / ".git").mkdir()
    with pytest.raises(ToolError, match=r"\.git"):
        await call(tool, ctx, file_path=".git/hooks/post-checkout", content="#!/bin/sh\n")
    with pytest.raises(ToolError, match="outside"):
        await call(tool, ctx, file_path="../outside/new.txt", content="x")
    assert not (outside / "new.txt").exists()


async def test_new_file_mode_follows_umask(ctx: ToolContext, root: Path) -> None:
    reference = root / "reference"
    reference.write_text("")
    await call(tool, ctx, file_path="made.txt", content="x")
    assert stat.S_IMODE((root / "made.txt").stat().st_mode) == stat.S_IMODE(reference.stat().st_mode)


async def test_invalidates_listing_and_records_hash(ctx: ToolContext, root: Path) -> None:
    before = await call(ListDirTool(), ctx)
    await call(tool, ctx, file_path="fresh.txt", content="one\n")
    after = await call(ListDirTool(), ctx)
    assert "fresh.txt" not in before.content and "fresh.txt  4 B" in after.content
    assert get_file_hashes(ctx)[str(root / "fresh.txt")] == hashlib.sha256(b"one\n").hexdigest()
    # Writing counts as knowing the content: an immediate edit is not "stale".
    await call(UpdateFileTool(), ctx, file_path="fresh.txt", old_text="one", new_text="two")
    assert (root / "fresh.txt").read_text() == "two\n"


async def test_argument_types(ctx: ToolContext) -> None:
    with pytest.raises(ToolError, match="'content' must be a string"):
        await call(tool, ctx, file_path="x", content=["a"])
    with pytest.raises(ToolError, match="Missing required argument 'content'"):
        await call(tool, ctx, file_path="x")
