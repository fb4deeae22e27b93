from __future__ import annotations

import codecs
import os
import stat
from pathlib import Path

import pytest

from tunacode_tui.tools import fileio
from tunacode_tui.tools.base import ToolError
from tunacode_tui.tools.fileio import atomic_write, decode_text, encode_text, is_binary


@pytest.mark.parametrize("mode", [0o755, 0o600, 0o640])
def test_atomic_write_keeps_mode(tmp_path: Path, mode: int) -> None:
    target = tmp_path / "script.sh"
    target.write_bytes(b"old")
    target.chmod(mode)
    atomic_write(target, b"new")
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == mode
    assert sorted(p.name for p in tmp_path.iterdir()) == ["script.sh"]  # no temp file left behind


def test_atomic_write_new_file_gets_umask_mode(tmp_path: Path) -> None:
    reference = tmp_path / "reference"
    reference.write_bytes(b"")
    atomic_write(tmp_path / "new", b"data")
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == stat.S_IMODE(reference.stat().st_mode)


def test_atomic_write_exclusive_refuses_existing(tmp_path: Path) -> None:
    target = tmp_path / "f"
    target.write_bytes(b"keep")
    with pytest.raises(FileExistsError):
        atomic_write(target, b"clobber", exclusive=True)
    assert target.read_bytes() == b"keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]


def test_atomic_write_replaces_not_truncates(tmp_path: Path) -> None:
    target = tmp_path / "f"
    target.write_bytes(b"old")
    inode = target.stat().st_ino
    with open(target, "rb") as reader:  # an open reader keeps seeing the old file
        atomic_write(target, b"new content")
        assert reader.read() == b"old"
    assert target.stat().st_ino != inode


@pytest.mark.parametrize(
    ("sample", "expected"),
    [
        (b"", False),
        (b"plain text\n", False),
        (b"\x7fELF\x02\x01\x01\x00\x00", True),
        (bytes(range(1, 32)) * 4, True),
        (codecs.BOM_UTF16_LE + "hi".encode("utf-16-le"), False),
        ("héllo wörld".encode("latin-1"), False),
        (b"\x1b[31mred\x1b[0m\n", False),
    ],
)
def test_is_binary(sample: bytes, expected: bool) -> None:
    assert is_binary(sample) is expected


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        ("héllo\n".encode(), "utf-8"),
        (codecs.BOM_UTF8 + "héllo\n".encode(), "utf-8-sig"),
        (codecs.BOM_UTF16_LE + "héllo\n".encode("utf-16-le"), "utf-16-le+bom"),
        (codecs.BOM_UTF16_BE + "héllo\n".encode("utf-16-be"), "utf-16-be+bom"),
        (codecs.BOM_UTF32_LE + "héllo\n".encode("utf-32-le"), "utf-32-le+bom"),
    ],
)
def test_decode_text_boms_round_trip(tmp_path: Path, data: bytes, encoding: str) -> None:
    path = tmp_path / "f.txt"
    path.write_bytes(data)
    text, detected = decode_text(path, data)
    assert (text, detected) == ("héllo\n", encoding)
    assert encode_text(text, detected) == data


def test_decode_text_detects_latin1_and_caches_the_guess(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = ("Café crème brûlée, façade naïve, déjà vu. " * 20 + "\n").encode("latin-1")
    path = tmp_path / "latin.txt"
    path.write_bytes(data)
    calls: list[int] = []
    real = fileio.detect_encoding

    def spy(sample: bytes) -> str | None:
        calls.append(len(sample))
        return real(sample)

    monkeypatch.setattr(fileio, "detect_encoding", spy)
    text, encoding = decode_text(path, data)
    assert text.startswith("Café crème brûlée")
    assert encode_text(text, encoding) == data
    decode_text(path, data)
    assert len(calls) == 1  # same (path, mtime_ns, size): the guess is reused
    os.utime(path, ns=(1, 1))
    decode_text(path, data)
    assert len(calls) == 2  # the file changed: detect again


def test_decode_text_undecodable_raises_tool_error(tmp_path: Path) -> None:
    data = codecs.BOM_UTF16_LE + b"\x00\xd8"  # a lone surrogate
    with pytest.raises(ToolError, match="Could not decode"):
        decode_text(tmp_path / "bad.txt", data)


def test_encode_text_unencodable_raises_tool_error() -> None:
    with pytest.raises(ToolError, match="cannot be written"):
        encode_text("snowman ☃", "latin-1")
