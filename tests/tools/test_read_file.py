from __future__ import annotations

import codecs
import os
from pathlib import Path

import pytest

from tests.tools.helpers import call
from tunacode_tui.tools import read_file as read_file_module
from tunacode_tui.tools.base import ToolContext, ToolError
from tunacode_tui.tools.file_window import read_window
from tunacode_tui.tools.read_cache import get_file_hashes, get_read_cache
from tunacode_tui.tools.read_file import ReadFileTool

tool = ReadFileTool()


def _write_lines(path: Path, count: int, *, width: int = 0) -> None:
    pad = "x" * width
    path.write_text("".join(f"line {i}{pad}\n" for i in range(1, count + 1)))


async def test_numbered_like_cat_n(ctx: ToolContext, root: Path) -> None:
    (root / "a.txt").write_text("alpha\n\tbeta\n")
    out = await call(tool, ctx, file_path="a.txt")
    assert out.content == "     1\talpha\n     2\t\tbeta"
    assert out.metadata["total_lines"] == 2


async def test_window_and_paging_note(ctx: ToolContext, root: Path) -> None:
    _write_lines(root / "f.txt", 50)
    out = await call(tool, ctx, file_path="f.txt", offset=10, limit=5)
    lines = out.content.splitlines()
    assert lines[0] == "    11\tline 11"
    assert lines[4] == "    15\tline 15"
    assert lines[-1] == "[Showing lines 11-15 of 50. Use offset=15 to read more.]"
    last = await call(tool, ctx, file_path="f.txt", offset=45, limit=10)
    assert last.content.splitlines()[-1] == "[Showing lines 46-50 of 50 (end of file).]"
    whole = await call(tool, ctx, file_path="f.txt")
    assert "Showing" not in whole.content


async def test_default_limit_is_2000(ctx: ToolContext, root: Path) -> None:
    _write_lines(root / "f.txt", 2500)
    out = await call(tool, ctx, file_path="f.txt")
    assert out.metadata["lines_shown"] == 2000
    assert out.content.endswith("[Showing lines 1-2000 of 2500. Use offset=2000 to read more.]")


async def test_offset_past_end(ctx: ToolContext, root: Path) -> None:
    _write_lines(root / "f.txt", 3)
    with pytest.raises(ToolError, match=r"past the end.*3 lines"):
        await call(tool, ctx, file_path="f.txt", offset=3)


async def test_long_lines_are_cut_with_marker(ctx: ToolContext, root: Path) -> None:
    (root / "min.js").write_text("a" * 5000 + "\nshort\n")
    out = await call(tool, ctx, file_path="min.js")
    first = out.content.splitlines()[0]
    assert first == "     1\t" + "a" * 2000 + "… [line truncated, 5000 chars]"


async def test_binary_refused(ctx: ToolContext, root: Path) -> None:
    (root / "img.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(ToolError, match="binary"):
        await call(tool, ctx, file_path="img.png")


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (codecs.BOM_UTF8 + "naïve\r\ncafé\r\n".encode(), "utf-8-sig"),
        ("Déjà vu, café crème, garçon à la façade. Ça va très bien, merci.\n".encode("latin-1") * 5, None),
        (codecs.BOM_UTF16_LE + "naïve\r\ncafé\r\n".encode("utf-16-le"), "utf-16-le+bom"),
        (codecs.BOM_UTF16_BE + "naïve\ncafé\n".encode("utf-16-be"), "utf-16-be+bom"),
    ],
)
async def test_encodings_and_crlf(ctx: ToolContext, root: Path, data: bytes, encoding: str | None) -> None:
    (root / "t.txt").write_bytes(data)
    out = await call(tool, ctx, file_path="t.txt")
    assert "\r" not in out.content
    assert "\ufeff" not in out.content
    if encoding is None:
        assert out.content.startswith("     1\tDéjà vu, café crème")
    else:
        assert out.content == "     1\tnaïve\n     2\tcafé"
        assert out.metadata["encoding"] == encoding


async def test_empty_file(ctx: ToolContext, root: Path) -> None:
    (root / "empty").write_text("")
    out = await call(tool, ctx, file_path="empty")
    assert "empty" in out.content


async def test_missing_file_and_directory(ctx: ToolContext, root: Path) -> None:
    with pytest.raises(ToolError, match="not found"):
        await call(tool, ctx, file_path="nope.txt")
    (root / "d").mkdir()
    with pytest.raises(ToolError, match=r"directory.*list_dir"):
        await call(tool, ctx, file_path="d")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"file_path": 3}, "'file_path' must be a string"),
        ({"file_path": "a", "offset": "10"}, "'offset' must be an integer"),
        ({"file_path": "a", "limit": True}, "'limit' must be an integer"),
        ({"file_path": "a", "limit": 0}, "'limit' must be >= 1"),
        ({"file_path": "a", "offset": -1}, "'offset' must be >= 0"),
        ({}, "Missing required argument 'file_path'"),
        ({"file_path": "a", "filepath": "a"}, "unknown argument"),
    ],
)
async def test_argument_validation(ctx: ToolContext, args: dict[str, object], message: str) -> None:
    with pytest.raises(ToolError, match=message):
        await tool.run(args, ctx)


async def test_warm_reads_skip_decoding(ctx: ToolContext, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = root / "big.py"
    _write_lines(path, 40_000, width=40)  # ~2 MB
    assert 1_500_000 < path.stat().st_size < 8 * 1024 * 1024
    decodes: list[Path] = []
    real = read_file_module.decode_text

    def spy(p: Path, data: bytes, **kw: object) -> tuple[str, str]:
        decodes.append(p)
        return real(p, data, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(read_file_module, "decode_text", spy)
    cold = await call(tool, ctx, file_path="big.py", offset=100, limit=50)
    assert len(decodes) == 1
    for _ in range(10):
        warm = await call(tool, ctx, file_path="big.py", offset=100, limit=50)
        assert warm.content == cold.content
    # Ten warm reads cost no decoding at all: far beyond 10x cheaper than the cold one.
    assert len(decodes) == 1
    assert get_read_cache(ctx).hits == 10

    os.utime(path, ns=(1, 1))  # a change on disk misses the cache
    await call(tool, ctx, file_path="big.py")
    assert len(decodes) == 2


async def test_records_hash_of_full_content(ctx: ToolContext, root: Path) -> None:
    import hashlib

    (root / "f.txt").write_bytes(b"one\ntwo\n")
    await call(tool, ctx, file_path="f.txt", limit=1)
    assert get_file_hashes(ctx)[str(root / "f.txt")] == hashlib.sha256(b"one\ntwo\n").hexdigest()


@pytest.fixture(scope="module")
def huge_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """~20 MB, 1.6 M numbered lines: over the 8 MiB threshold, so it is streamed."""
    path = tmp_path_factory.mktemp("huge") / "huge.log"
    block = 100_000
    with open(path, "wb") as handle:
        for start in range(0, 1_600_000, block):
            handle.write("".join(f"row {i:08d}\n" for i in range(start + 1, start + block + 1)).encode())
    return path


async def test_huge_file_is_streamed(huge_file: Path) -> None:
    ctx = ToolContext(root=huge_file.parent)
    assert huge_file.stat().st_size > 8 * 1024 * 1024
    out = await call(tool, ctx, file_path="huge.log", offset=1_000_000, limit=3)
    lines = out.content.splitlines()
    assert lines[:3] == ["1000001\trow 01000001", "1000002\trow 01000002", "1000003\trow 01000003"]
    assert "[Showing lines 1000001-1000003 of 1600000. Use offset=1000003 to read more.]" in out.content
    assert "streamed" in out.content
    assert get_file_hashes(ctx)[str(huge_file)].startswith("stat:")  # never fully read, so never hashed
    assert len(get_read_cache(ctx)) == 0


async def test_huge_file_count_budget_says_at_least(huge_file: Path) -> None:
    ctx = ToolContext(root=huge_file.parent)
    out = await call(ReadFileTool(count_budget_s=0), ctx, file_path="huge.log", limit=2)
    assert out.content.startswith("     1\trow 00000001\n     2\trow 00000002")
    assert "of at least" in out.content
    assert out.metadata["total_exact"] is False


async def test_huge_file_offset_past_end(huge_file: Path) -> None:
    ctx = ToolContext(root=huge_file.parent)
    with pytest.raises(ToolError, match="1600000 lines"):
        await call(tool, ctx, file_path="huge.log", offset=2_000_000)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
async def test_streaming_edge_cases(ctx: ToolContext, root: Path, encoding: str) -> None:
    text = "first\r\n" + "y" * 100_000 + "\nthird\nlast without newline"
    (root / "s.txt").write_bytes(text.encode(encoding))
    streaming = ReadFileTool(huge_file_bytes=10)
    out = await call(streaming, ctx, file_path="s.txt")
    lines = out.content.splitlines()
    assert lines[0] == "     1\tfirst"
    assert lines[1].startswith("     2\tyyyy") and "[line truncated, 100000" in lines[1]
    assert lines[2:4] == ["     3\tthird", "     4\tlast without newline"]
    assert out.metadata["total_lines"] == 4
    tail = await call(streaming, ctx, file_path="s.txt", offset=3)
    assert tail.content.startswith("     4\tlast without newline")
    with pytest.raises(ToolError, match="4 lines"):
        await call(streaming, ctx, file_path="s.txt", offset=4)


def test_read_window_refuses_binary(tmp_path: Path) -> None:
    path = tmp_path / "b.bin"
    path.write_bytes(b"\x00\x01\x02" * 100)
    with pytest.raises(ToolError, match="binary"):
        read_window(path, 0, 10)
