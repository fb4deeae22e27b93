"""Bytes on disk to text and back: atomic writes, binary sniffing, encoding detection.

Everything here is synchronous and may be CPU-heavy (chardet, hashing); tools call it through
``asyncio.to_thread`` so the event loop never stalls on a big file.
"""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import os
import re
import secrets
import stat
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import chardet

from tunacode_tui.tools.base import ToolError

BINARY_SNIFF_BYTES = 8192
_CONTROL = bytes(set(range(32)) - {9, 10, 12, 13, 27})
_CONTROL_RE = re.compile(b"[" + re.escape(_CONTROL) + b"]")
_NON_ASCII_RE = re.compile(rb"[\x80-\xff]")

# BOM-marked encodings. UTF-32 first: its LE BOM starts with the UTF-16 LE BOM.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32-le+bom"),
    (codecs.BOM_UTF32_BE, "utf-32-be+bom"),
    (codecs.BOM_UTF16_LE, "utf-16-le+bom"),
    (codecs.BOM_UTF16_BE, "utf-16-be+bom"),
)
_BOM_SUFFIX = "+bom"

_DETECT_SAMPLE = 64 * 1024
_DETECTED_MAX = 256
_detected: OrderedDict[tuple[str, int, int], str] = OrderedDict()
_detected_lock = threading.Lock()


def is_binary(sample: bytes) -> bool:
    """Guess whether bytes are binary: a NUL byte, or many control characters.

    UTF-16/32 text is full of NULs, so a BOM wins over the NUL rule.
    """
    if not sample:
        return False
    if any(sample.startswith(bom) for bom, _ in _BOMS):
        return False
    if b"\x00" in sample:
        return True
    controls = len(_CONTROL_RE.findall(sample))
    return controls / len(sample) > 0.3


def bom_encoding(data: bytes) -> str | None:
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    return None


def decode_text(path: Path | str, data: bytes, *, stat_result: os.stat_result | None = None) -> tuple[str, str]:
    """Decode file bytes: BOM, then UTF-8, then a chardet guess cached per (path, mtime_ns, size).

    Returns ``(text, encoding)`` where ``encoding`` round-trips through ``encode_text``.
    """
    bom = bom_encoding(data)
    if bom is not None:
        codec = bom.removesuffix(_BOM_SUFFIX)
        try:
            if bom.endswith(_BOM_SUFFIX):
                return data[len(_bom_bytes(bom)) :].decode(codec), bom
            return data.decode(codec), bom
        except UnicodeDecodeError as exc:
            raise _undecodable(path, codec, exc) from exc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    encoding = _detect(path, data, stat_result)
    try:
        return data.decode(encoding), encoding
    except (UnicodeDecodeError, LookupError) as exc:
        raise _undecodable(path, encoding, exc) from exc


def encode_text(text: str, encoding: str) -> bytes:
    """Encode text back to the encoding ``decode_text`` reported, BOM included."""
    try:
        if encoding.endswith(_BOM_SUFFIX):
            return _bom_bytes(encoding) + text.encode(encoding.removesuffix(_BOM_SUFFIX))
        return text.encode(encoding)
    except UnicodeEncodeError as exc:
        bad = text[exc.start : exc.end]
        raise ToolError(
            f"The new text contains {bad!r}, which cannot be written in this file's encoding ({encoding}). "
            "Use characters the encoding supports, or an escape sequence appropriate to the file type."
        ) from exc


_ENCODE_CHARS = 1024 * 1024


def encode_chunks(text: str, encoding: str) -> Iterator[bytes]:
    """``encode_text`` piece by piece, so a big file's new bytes never sit in memory beside its text.

    An incremental encoder writes a codec's own BOM (utf-8-sig, utf-16) once, at the start.
    """
    codec = encoding.removesuffix(_BOM_SUFFIX)
    if encoding.endswith(_BOM_SUFFIX):
        yield _bom_bytes(encoding)
    encoder = codecs.getincrementalencoder(codec)()
    for start in range(0, max(len(text), 1), _ENCODE_CHARS):
        piece = text[start : start + _ENCODE_CHARS]
        try:
            yield encoder.encode(piece, final=start + _ENCODE_CHARS >= len(text))
        except UnicodeEncodeError as exc:
            raise ToolError(
                f"The new text contains {piece[exc.start : exc.end]!r}, which cannot be written in this file's "
                f"encoding ({encoding}). Use characters the encoding supports, or an escape sequence "
                "appropriate to the file type."
            ) from exc


class WriteCancelled(Exception):
    """A write was stopped at a safe point, before its rename: the target file is untouched."""


_WRITE_CHUNK = 4 * 1024 * 1024
_TEMP_RE = re.compile(r"^\.(?P<name>.+)\.[0-9a-f]{8}\.tmp$")


def atomic_write(
    path: Path,
    data: bytes | Iterable[bytes],
    *,
    exclusive: bool = False,
    stop: threading.Event | None = None,
    unchanged: Callable[[], bool] | None = None,
) -> str:
    """Write ``data`` to ``path`` so readers see the old file or the new one, never half of it.

    Temp file in the same folder (so the final step is a rename), fsync, keep the old file's mode,
    fsync the folder so the rename itself survives a crash. ``exclusive`` raises ``FileExistsError``
    instead of replacing a file that appeared in the meantime. ``data`` may be an iterable of chunks
    (so a big file is never held twice in memory). Returns the SHA-256 of what was written.

    ``stop`` is checked between chunks and once more right before the rename: when set, the temp file
    is removed and ``WriteCancelled`` raised, so a cancelled write never lands half-reported. ``unchanged``
    is called right before the rename; False means something else changed the target since it was
    read, and the write is abandoned (``ToolError``) rather than overwriting that change.
    """
    path = Path(path)
    folder = path.parent
    try:
        old_mode: int | None = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        old_mode = None
    _check_stop(stop)
    clean_stale_temps(folder, name=path.name)  # what an earlier killed write of this file left
    tmp, fd = _create_temp(folder, path.name)
    digest = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as handle:
            chunks = (data,) if isinstance(data, bytes | bytearray | memoryview) else data
            for chunk in chunks:
                for start in range(0, len(chunk), _WRITE_CHUNK):
                    _check_stop(stop)
                    piece = chunk[start : start + _WRITE_CHUNK]
                    handle.write(piece)
                    digest.update(piece)
            handle.flush()
            os.fsync(handle.fileno())
        if old_mode is not None:
            os.chmod(tmp, old_mode)
        _check_stop(stop)  # the last safe point: after the rename the change is real
        if unchanged is not None and not unchanged():
            raise ToolError(
                f"{path.name} was changed by something else while this edit was being written, so the edit "
                "was not applied (that change is kept). Read the file again, then redo the edit."
            )
        if exclusive:
            _link_exclusive(tmp, path)
        else:
            os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(folder)
    return digest.hexdigest()


def _check_stop(stop: threading.Event | None) -> None:
    if stop is not None and stop.is_set():
        raise WriteCancelled("the write was cancelled before it replaced the file")


def stat_signature(path: Path) -> tuple[int, int, int] | None:
    """What identifies a file's content cheaply (inode, size, mtime): a change between read and rename
    shows up here without reading the file again."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


STALE_TEMP_AGE_S = 60.0


def clean_stale_temps(folder: Path, *, name: str | None = None, max_age_s: float = STALE_TEMP_AGE_S) -> list[Path]:
    """Remove temp files ``atomic_write`` left behind (a ``kill -9`` mid-write): only names of our exact
    pattern (``.NAME.<8 hex>.tmp``, for ``name`` only when given), only regular files untouched for
    ``max_age_s`` (another process may be writing right now), only in ``folder`` itself (not recursive:
    a project tree can be huge)."""
    import time

    removed: list[Path] = []
    now = time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _TEMP_RE.match(entry.name)
        if match is None or (name is not None and match["name"] != name):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(info.st_mode) or now - info.st_mtime < max_age_s:
                continue
            os.unlink(entry.path)
            removed.append(Path(entry.path))
        except OSError:
            continue
    return removed


def _link_exclusive(tmp: Path, path: Path) -> None:
    # link() fails if the target exists, unlike rename(); filesystems without hard links fall back to a
    # checked rename, which leaves only a tiny race.
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError:
        if os.path.lexists(path):
            raise FileExistsError(path) from None
        os.replace(tmp, path)
        return
    os.unlink(tmp)


def _create_temp(folder: Path, name: str) -> tuple[Path, int]:
    # os.open with 0o666 lets the kernel apply the umask, so a new file gets the usual mode
    # (mkstemp would leave it 0600).
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = folder / f".{name}.{secrets.token_hex(4)}.tmp"
        try:
            return tmp, os.open(tmp, flags, 0o666)
        except FileExistsError:
            continue
    raise OSError(f"could not create a temporary file in {folder}")


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # Windows cannot open directories
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _bom_bytes(encoding: str) -> bytes:
    return next(bom for bom, name in _BOMS if name == encoding)


def detect_encoding(data: bytes) -> str | None:
    """Guess a legacy 8-bit encoding with chardet, on the 64 KiB around the first non-ASCII byte (the
    bytes that tell encodings apart).

    chardet is unsure on short Western text (it calls French cp1251 at 12% confidence), and cp1252 is
    by far the most common legacy encoding in source trees, so it wins whenever it scores within half
    of the best guess.
    """
    first = _NON_ASCII_RE.search(data)
    start = max(0, first.start() - 1024) if first else 0
    sample = data[start : start + _DETECT_SAMPLE]
    try:
        candidates = chardet.detect_all(sample, encoding_era=chardet.EncodingEra.MODERN_WEB)
    except (AttributeError, TypeError):  # chardet < 7 has no encoding eras
        candidates = chardet.detect_all(sample)
    names = [(c.get("encoding"), c.get("confidence") or 0.0) for c in candidates]
    names = [(_codec_name(n), conf) for n, conf in names if n]
    names = [(n, conf) for n, conf in names if n is not None]
    if not names:
        return None
    best, best_conf = names[0]
    for name, conf in names:
        if name == "cp1252" and conf >= best_conf / 2 and _decodes(sample, name):
            return name
    return best


def _codec_name(encoding: str) -> str | None:
    try:
        return codecs.lookup(encoding.lower()).name
    except LookupError:
        return None


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _detect(path: Path | str, data: bytes, stat_result: os.stat_result | None) -> str:
    key: tuple[str, int, int] | None = None
    try:
        st = stat_result if stat_result is not None else os.stat(path)
        key = (str(path), st.st_mtime_ns, st.st_size)
    except OSError:
        pass
    if key is not None:
        with _detected_lock:
            cached = _detected.get(key)
            if cached is not None:
                _detected.move_to_end(key)
                return cached
    encoding = detect_encoding(data)
    if encoding is None:
        raise ToolError(
            f"Could not determine the text encoding of {path}: it is not UTF-8 and no encoding fits. "
            "It may be binary; inspect it with bash (e.g. `file`) instead."
        )
    if key is not None:
        with _detected_lock:
            _detected[key] = encoding
            while len(_detected) > _DETECTED_MAX:
                _detected.popitem(last=False)
    return encoding


def _undecodable(path: Path | str, encoding: str, exc: Exception) -> ToolError:
    return ToolError(
        f"Could not decode {path} as {encoding} ({exc}). The file may be binary or mix encodings; "
        "inspect it with bash (e.g. `file`, `iconv`) instead."
    )
