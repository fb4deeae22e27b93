"""Property tests: exact-replace semantics of update_file and confinement of resolve_path."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tunacode_tui.tools.base import ToolContext, ToolError
from tunacode_tui.tools.paths import resolve_path
from tunacode_tui.tools.update_file import UpdateFileTool

_TEXT = st.text(alphabet="ab \n\tπ", max_size=40)


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as name:
        yield Path(name).resolve()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=_TEXT, old=_TEXT.filter(bool), new=_TEXT)
def test_update_file_is_single_exact_replace(workdir: Path, content: str, old: str, new: str) -> None:
    path = workdir / "f.txt"
    path.write_bytes(content.encode())
    ctx = ToolContext(root=workdir)
    args = {"file_path": "f.txt", "old_text": old, "new_text": new}
    try:
        asyncio.run(UpdateFileTool().run(args, ctx))
    except ToolError:
        assert path.read_bytes() == content.encode()
        assert content.count(old) != 1 or old == new
        return
    assert content.count(old) == 1
    assert path.read_text(encoding="utf-8") == content.replace(old, new, 1)


_SEGMENTS = st.sampled_from(["..", ".", "a", "b", "ü dir", "out", "in", "loop", ".git", "missing"])


@pytest.fixture(scope="module")
def linked_root(workdir: Path) -> Path:
    """root/{a/b, in -> a, out -> ../outside, loop -> loop, ü dir}, plus a sibling outside folder."""
    base = workdir / "links"
    root = base / "root"
    (root / "a" / "b").mkdir(parents=True)
    (root / "ü dir").mkdir()
    (base / "outside").mkdir()
    (root / "in").symlink_to(root / "a", target_is_directory=True)
    (root / "a" / "out").symlink_to(base / "outside", target_is_directory=True)
    (root / "out").symlink_to(base / "outside", target_is_directory=True)
    (root / "loop").symlink_to(root / "loop")
    return root


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(segments=st.lists(_SEGMENTS, min_size=1, max_size=8), for_write=st.booleans())
def test_resolve_path_never_escapes(linked_root: Path, segments: list[str], for_write: bool) -> None:
    ctx = ToolContext(root=linked_root)
    try:
        resolved = resolve_path(ctx, "/".join(segments), for_write=for_write)
    except ToolError:
        return
    assert resolved == linked_root or resolved.is_relative_to(linked_root)
    real = resolved.resolve()
    assert real == linked_root or real.is_relative_to(linked_root)
    if for_write:
        assert ".git" not in resolved.relative_to(linked_root).parts
