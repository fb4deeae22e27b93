from __future__ import annotations

import codecs
import stat
from pathlib import Path
from typing import Any

import pytest

from tests.tools.helpers import call
from tunacode_tui.tools.base import ToolContext, ToolError
from tunacode_tui.tools.read_file import ReadFileTool
from tunacode_tui.tools.update_file import UpdateFileTool

tool = UpdateFileTool()

SOURCE = """def add(a, b):
    return a + b


def sub(a, b):
    return a - b


def mul(a, b):
    return a * b
"""


async def test_replaces_and_returns_diff(ctx: ToolContext, root: Path) -> None:
    (root / "m.py").write_text(SOURCE)
    out = await call(tool, ctx, file_path="m.py", old_text="    return a - b", new_text="    return b - a")
    assert (root / "m.py").read_text() == SOURCE.replace("a - b", "b - a")
    assert out.content.startswith("Updated m.py: replaced 1 occurrence (line 6).")
    assert "-    return a - b\n+    return b - a" in out.content
    assert out.display is not None and out.display.startswith("--- a/m.py\n+++ b/m.py\n@@")
    assert tool.read_only is False


async def test_no_match_shows_closest_region(ctx: ToolContext, root: Path) -> None:
    (root / "m.py").write_text(SOURCE)
    with pytest.raises(ToolError) as info:
        await call(tool, ctx, file_path="m.py", old_text="def sub(a, b):\n    return a - c\n", new_text="x")
    message = str(info.value)
    assert "old_text was not found in m.py" in message
    assert "most similar region is lines 5-6" in message
    assert "     5\tdef sub(a, b):\n     6\t    return a - b" in message
    assert (root / "m.py").read_text() == SOURCE


async def test_no_match_hints(ctx: ToolContext, root: Path) -> None:
    (root / "m.py").write_text(SOURCE)
    with pytest.raises(ToolError, match="whitespace or indentation"):
        await call(tool, ctx, file_path="m.py", old_text="def mul(a, b):\n  return a * b", new_text="x")
    with pytest.raises(ToolError, match="line-number prefixes"):
        await call(tool, ctx, file_path="m.py", old_text="     9\tdef mul(a, b):", new_text="x")


async def test_no_match_in_a_big_file_stays_fast(ctx: ToolContext, root: Path) -> None:
    lines = [f"value_{i} = compute({i}, scale={i % 7})" for i in range(20_000)]
    (root / "big.py").write_text("\n".join(lines) + "\n")
    old = "\n".join(lines[12_000:12_010]).replace("scale=", "scale =")
    with pytest.raises(ToolError, match="most similar region is lines 12001-12010"):
        await call(tool, ctx, file_path="big.py", old_text=old, new_text="x")


async def test_multiple_matches(ctx: ToolContext, root: Path) -> None:
    (root / "m.py").write_text(SOURCE)
    with pytest.raises(ToolError, match=r"matches 3 times in m.py \(starting at lines 2, 6, 10\)"):
        await call(tool, ctx, file_path="m.py", old_text="    return", new_text="    yield")
    out = await call(tool, ctx, file_path="m.py", old_text="    return", new_text="    yield", replace_all=True)
    assert (root / "m.py").read_text().count("    yield") == 3
    assert out.metadata["replacements"] == 3


async def test_crlf_preserved_with_lf_old_text(ctx: ToolContext, root: Path) -> None:
    (root / "w.txt").write_bytes(b"first\r\nsecond\r\nthird\r\n")
    await call(tool, ctx, file_path="w.txt", old_text="first\nsecond\n", new_text="uno\ndos\ntres\n")
    assert (root / "w.txt").read_bytes() == b"uno\r\ndos\r\ntres\r\nthird\r\n"


@pytest.mark.parametrize("ending", ["\n", ""])
async def test_trailing_newline_state_preserved(ctx: ToolContext, root: Path, ending: str) -> None:
    (root / "t.txt").write_text("a\nlast" + ending)
    await call(tool, ctx, file_path="t.txt", old_text="last", new_text="final")
    assert (root / "t.txt").read_text() == "a\nfinal" + ending


@pytest.mark.parametrize(
    ("encoding", "bom"), [("latin-1", b""), ("utf-16-le", codecs.BOM_UTF16_LE), ("utf-8", codecs.BOM_UTF8)]
)
async def test_encoding_preserved(ctx: ToolContext, root: Path, encoding: str, bom: bytes) -> None:
    text = "# Café crème, déjà vu, façade naïve. Ça va.\nx = 'garçon'\n"
    (root / "e.py").write_bytes(bom + text.encode(encoding))
    await call(tool, ctx, file_path="e.py", old_text="'garçon'", new_text="'élève'")
    assert (root / "e.py").read_bytes() == bom + text.replace("'garçon'", "'élève'").encode(encoding)


async def test_unencodable_new_text(ctx: ToolContext, root: Path) -> None:
    (root / "e.txt").write_bytes("café crème déjà\n".encode("latin-1"))
    with pytest.raises(ToolError, match="cannot be written"):
        await call(tool, ctx, file_path="e.txt", old_text="crème", new_text="☃")


async def test_stale_write_guard(ctx: ToolContext, root: Path) -> None:
    path = root / "s.txt"
    path.write_text("alpha\nbeta\n")
    await call(ReadFileTool(), ctx, file_path="s.txt")
    path.write_text("alpha\nbeta\ngamma\n")  # someone else edits it
    with pytest.raises(ToolError, match="changed on disk since you last read it"):
        await call(tool, ctx, file_path="s.txt", old_text="beta", new_text="BETA")
    assert path.read_text() == "alpha\nbeta\ngamma\n"
    await call(ReadFileTool(), ctx, file_path="s.txt")
    await call(tool, ctx, file_path="s.txt", old_text="beta", new_text="BETA")
    # Our own write updates the stored hash, so a second edit needs no re-read.
    await call(tool, ctx, file_path="s.txt", old_text="gamma", new_text="GAMMA")
    assert path.read_text() == "alpha\nBETA\nGAMMA\n"


async def test_read_after_edit_sees_new_content(ctx: ToolContext, root: Path) -> None:
    (root / "c.txt").write_text("old value\n")
    await call(ReadFileTool(), ctx, file_path="c.txt")
    await call(tool, ctx, file_path="c.txt", old_text="old", new_text="new")
    out = await call(ReadFileTool(), ctx, file_path="c.txt")
    assert out.content == "     1\tnew value"


async def test_mode_preserved(ctx: ToolContext, root: Path) -> None:
    script = root / "run.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o751)
    await call(tool, ctx, file_path="run.sh", old_text="hi", new_text="hello")
    assert stat.S_IMODE(script.stat().st_mode) == 0o751


async def test_refusals(ctx: ToolContext, root: Path) -> None:
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("[core]\n")
    (root / "f.txt").write_text("abc\n")
    (root / "bin").write_bytes(b"\x00\x01abc")
    cases: list[tuple[dict[str, Any], str]] = [
        ({"file_path": ".git/config", "old_text": "core", "new_text": "x"}, r"\.git"),
        ({"file_path": "nope.txt", "old_text": "a", "new_text": "b"}, "write_file"),
        ({"file_path": "f.txt", "old_text": "abc", "new_text": "abc"}, "identical"),
        ({"file_path": "f.txt", "old_text": "", "new_text": "b"}, "empty"),
        ({"file_path": "f.txt", "old_text": "a", "new_text": 1}, "'new_text' must be a string"),
        ({"file_path": "f.txt", "old_text": "a", "new_text": "b", "replace_all": "yes"}, "boolean"),
        ({"file_path": "bin", "old_text": "abc", "new_text": "x"}, "binary"),
    ]
    for args, message in cases:
        with pytest.raises(ToolError, match=message):
            await tool.run(args, ctx)
    assert (root / ".git" / "config").read_text() == "[core]\n"


async def test_preview_shows_the_exact_diff_without_writing(tmp_path) -> None:
    from tunacode_tui.tools.base import ToolContext
    from tunacode_tui.tools.update_file import UpdateFileTool
    from tunacode_tui.tools.write_file import WriteFileTool

    ctx = ToolContext(root=tmp_path)
    (tmp_path / "f.py").write_text("a = 1\nb = 2\n")
    diff = await UpdateFileTool().preview({"file_path": "f.py", "old_text": "b = 2", "new_text": "b = 3"}, ctx)
    assert "-b = 2" in diff and "+b = 3" in diff
    assert (tmp_path / "f.py").read_text() == "a = 1\nb = 2\n"
    created = await WriteFileTool().preview({"file_path": "new.py", "content": "x = 1\n"}, ctx)
    assert "+x = 1" in created and not (tmp_path / "new.py").exists()


async def test_stale_write_guard_above_the_streaming_threshold(ctx: ToolContext, root: Path) -> None:
    """read_file streams files over 8 MiB and stored no hash, so no stale check applied (issue 12,
    item 9). A small threshold makes this file "huge" without writing 8 MiB."""
    path = root / "big.log"
    path.write_text("alpha\nbeta\n" * 100)
    reader = ReadFileTool(huge_file_bytes=64)
    out = await call(reader, ctx, file_path="big.log", limit=2)
    assert out.metadata["streamed"]
    path.write_text("alpha\nbeta\n" * 100 + "gamma\n")  # someone else edits it
    with pytest.raises(ToolError, match="changed on disk since you last read it"):
        await call(tool, ctx, file_path="big.log", old_text="gamma", new_text="GAMMA")
    await call(reader, ctx, file_path="big.log", limit=2)
    await call(tool, ctx, file_path="big.log", old_text="gamma", new_text="GAMMA")
    assert path.read_text().endswith("GAMMA\n")


async def test_outside_change_during_the_edit_is_kept(ctx: ToolContext, root: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A change made while the edit was being computed and written was overwritten: the file is now
    checked once more right before the rename (issue 12, low)."""
    from tunacode_tui.tools import fileio, update_file

    path = root / "s.txt"
    path.write_text("alpha\nbeta\n")
    real = fileio.atomic_write

    def someone_writes_meanwhile(target, data, **kwargs):  # type: ignore[no-untyped-def]
        path.write_text("alpha\nbeta\nfrom the editor\n")
        return real(target, data, **kwargs)

    monkeypatch.setattr(update_file, "atomic_write", someone_writes_meanwhile)
    with pytest.raises(ToolError, match="changed by something else while this edit was being written"):
        await call(tool, ctx, file_path="s.txt", old_text="beta", new_text="BETA")
    assert path.read_text() == "alpha\nbeta\nfrom the editor\n"
    assert not list(root.glob(".s.txt.*.tmp"))


async def test_stale_temp_files_of_ours_are_cleaned(ctx: ToolContext, root: Path) -> None:
    """A kill -9 mid-write leaves .NAME.<hex>.tmp behind; the next write of that file removes old ones
    of exactly our pattern, and nothing else (issue 12, low)."""
    import os

    path = root / "s.txt"
    path.write_text("alpha\n")
    ours = root / ".s.txt.0badf00d.tmp"
    fresh = root / ".s.txt.12345678.tmp"  # young: another process may be writing it right now
    theirs = [root / ".s.txt.notours.tmp", root / ".other.txt.0badf00d.tmp", root / "s.txt.0badf00d.tmp"]
    for leftover in [ours, fresh, *theirs]:
        leftover.write_text("half a file")
    for old in [ours, *theirs]:
        os.utime(old, (1_000_000, 1_000_000))
    await call(tool, ctx, file_path="s.txt", old_text="alpha", new_text="ALPHA")
    assert not ours.exists()
    assert fresh.exists() and all(p.exists() for p in theirs)
