from __future__ import annotations

import os
from pathlib import Path

import pytest

from tunacode_tui.tools.base import ToolContext, ToolError
from tunacode_tui.tools.paths import display_path, resolve_path


def test_relative_paths_resolve_under_root(ctx: ToolContext, root: Path) -> None:
    assert resolve_path(ctx, "src/main.py", for_write=False) == root / "src" / "main.py"
    assert resolve_path(ctx, ".", for_write=False) == root


def test_spaces_unicode_and_inner_dotdot(ctx: ToolContext, root: Path) -> None:
    assert resolve_path(ctx, "my dir/façade ünï.txt", for_write=True) == root / "my dir" / "façade ünï.txt"
    assert resolve_path(ctx, "a/b/../c.txt", for_write=False) == root / "a" / "c.txt"
    assert resolve_path(ctx, str(root / "x.txt"), for_write=False) == root / "x.txt"


@pytest.mark.parametrize("path", ["../outside/secret.txt", "a/../../x", "/etc/passwd", ".."])
def test_escapes_are_refused(ctx: ToolContext, path: str) -> None:
    with pytest.raises(ToolError, match="outside the project root"):
        resolve_path(ctx, path, for_write=False)


def test_symlink_escaping_root_is_refused(ctx: ToolContext, root: Path, outside: Path) -> None:
    (root / "link_dir").symlink_to(outside, target_is_directory=True)
    (root / "link_file").symlink_to(outside / "secret.txt")
    for path in ("link_dir/secret.txt", "link_file", "link_dir"):
        with pytest.raises(ToolError, match="outside the project root"):
            resolve_path(ctx, path, for_write=False)


def test_symlink_inside_root_is_followed(ctx: ToolContext, root: Path) -> None:
    (root / "real").mkdir()
    (root / "alias").symlink_to(root / "real", target_is_directory=True)
    assert resolve_path(ctx, "alias/f.txt", for_write=True) == root / "real" / "f.txt"


def test_symlink_loop_is_a_tool_error_or_confined(ctx: ToolContext, root: Path) -> None:
    (root / "loop").symlink_to(root / "loop")
    try:
        resolved = resolve_path(ctx, "loop/x", for_write=False)
    except ToolError:
        return
    assert resolved.is_relative_to(root)


def test_allowed_dirs_are_accessible(root: Path, outside: Path) -> None:
    ctx = ToolContext(root=root, allowed_dirs=[outside])
    assert resolve_path(ctx, str(outside / "secret.txt"), for_write=True) == outside / "secret.txt"


def test_git_dir_is_readable_but_not_writable(ctx: ToolContext, root: Path) -> None:
    (root / ".git").mkdir()
    assert resolve_path(ctx, ".git/config", for_write=False) == root / ".git" / "config"
    for path in (".git/config", ".git", "sub/.git/hooks/pre-commit"):
        with pytest.raises(ToolError, match=r"\.git"):
            resolve_path(ctx, path, for_write=True)
    assert resolve_path(ctx, ".gitignore", for_write=True) == root / ".gitignore"


def test_symlink_into_git_dir_is_not_writable(ctx: ToolContext, root: Path) -> None:
    (root / ".git").mkdir()
    (root / "hooks").symlink_to(root / ".git", target_is_directory=True)
    with pytest.raises(ToolError, match=r"\.git"):
        resolve_path(ctx, "hooks/config", for_write=True)


@pytest.mark.parametrize("bad", ["", "   ", "a\x00b"])
def test_empty_and_nul_paths_are_refused(ctx: ToolContext, bad: str) -> None:
    with pytest.raises(ToolError):
        resolve_path(ctx, bad, for_write=False)


def test_non_string_path_is_refused(ctx: ToolContext) -> None:
    with pytest.raises(ToolError, match="string"):
        resolve_path(ctx, 42, for_write=False)  # type: ignore[arg-type]


def test_display_path(ctx: ToolContext, root: Path, outside: Path) -> None:
    assert display_path(ctx, root / "a" / "b.txt") == "a/b.txt"
    assert display_path(ctx, root) == "."
    assert display_path(ctx, outside) == str(outside)


def test_relative_root_is_resolved(tmp_path: Path, root: Path) -> None:
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        ctx = ToolContext(root=Path("project"))
        assert resolve_path(ctx, "x", for_write=False) == root / "x"
    finally:
        os.chdir(cwd)


def test_link_after_a_symlink_loop_is_still_resolved(ctx: ToolContext, root: Path, outside: Path) -> None:
    # One resolve() pass folds "loop/.." away and leaves "out" unresolved; the escape must still be seen.
    (root / "loop").symlink_to(root / "loop")
    (root / "out").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ToolError):
        resolve_path(ctx, "loop/../out/secret.txt", for_write=False)
