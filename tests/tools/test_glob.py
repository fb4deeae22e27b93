from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.tools.helpers import call
from tunacode_tui.tools.base import ToolContext, ToolError
from tunacode_tui.tools.glob import GlobTool

tool = GlobTool()


def _touch(root: Path, name: str, mtime: int = 1_000_000) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("x")
    os.utime(path, (mtime, mtime))


@pytest.fixture
def tree(root: Path) -> Path:
    for i, name in enumerate(
        [
            "a.py",
            "src/b.py",
            "src/pkg/c.py",
            "src/pkg/d.ts",
            "src/pkg/e.tsx",
            "build/gen.py",
            "node_modules/x/index.py",
            ".venv/lib/site.py",
            "ignored_dir/f.py",
            "src/skip.py",
            ".github/workflows/ci.yml",
            "space dir/ü.py",
        ]
    ):
        _touch(root, name, 1_000_000 + i)
    (root / ".gitignore").write_text("ignored_dir/\nsrc/skip.py\n")
    return root


async def test_recursive_glob_skips_ignored_and_junk(ctx: ToolContext, tree: Path) -> None:
    out = await call(tool, ctx, pattern="**/*.py")
    assert set(out.content.splitlines()) == {"a.py", "src/b.py", "src/pkg/c.py", "space dir/ü.py"}


async def test_sorted_newest_first(ctx: ToolContext, tree: Path) -> None:
    os.utime(tree / "src/b.py", (2_000_000, 2_000_000))
    out = await call(tool, ctx, pattern="**/*.py")
    assert out.content.splitlines() == ["src/b.py", "space dir/ü.py", "src/pkg/c.py", "a.py"]


async def test_single_star_stays_in_folder(ctx: ToolContext, tree: Path) -> None:
    out = await call(tool, ctx, pattern="*.py")
    assert out.content == "a.py"
    out = await call(tool, ctx, pattern="src/*/*.ts")
    assert out.content == "src/pkg/d.ts"


async def test_braces_and_path(ctx: ToolContext, tree: Path) -> None:
    out = await call(tool, ctx, pattern="*.{ts,tsx}", path="src/pkg")
    assert set(out.content.splitlines()) == {"src/pkg/d.ts", "src/pkg/e.tsx"}


async def test_hidden_only_when_named(ctx: ToolContext, tree: Path) -> None:
    assert (await call(tool, ctx, pattern="**/*.yml")).content.startswith("No files match")
    out = await call(tool, ctx, pattern=".github/**/*.yml")
    assert out.content == ".github/workflows/ci.yml"


async def test_cap_with_notice(ctx: ToolContext, root: Path) -> None:
    for i in range(10):
        _touch(root, f"f{i}.txt", 1_000_000 + i)
    out = await call(GlobTool(max_results=3), ctx, pattern="*.txt")
    lines = out.content.splitlines()
    assert lines[:3] == ["f9.txt", "f8.txt", "f7.txt"]
    assert lines[-1].startswith("[truncated: showing 3 of 10 matches")


async def test_bad_inputs(ctx: ToolContext, tree: Path, outside: Path) -> None:
    with pytest.raises(ToolError, match=r"'\.\.'"):
        await call(tool, ctx, pattern="../*")
    with pytest.raises(ToolError, match="outside"):
        await call(tool, ctx, pattern="*", path=str(outside))
    with pytest.raises(ToolError, match="not a folder"):
        await call(tool, ctx, pattern="*", path="a.py")
    out = await call(tool, ctx, pattern=str(tree / "src" / "*.py"))
    assert out.content == "src/b.py"


@pytest.mark.parametrize("backend", ["rg", "python"])
async def test_symlinked_folder_to_outside_is_not_listed(ctx: ToolContext, root: Path, outside: Path,
                                                         monkeypatch: pytest.MonkeyPatch, backend: str) -> None:
    """`glob link_etc/*` listed /etc through a linked folder (issue 12, item 5); links to outside files
    are skipped too, while links inside the project still match."""
    if backend == "python":
        monkeypatch.setenv("TUNACODE_GREP_BACKEND", "python")
    (root / "link_out").symlink_to(outside, target_is_directory=True)
    (root / "shadow.txt").symlink_to(outside / "secret.txt")
    (root / "real.txt").write_text("mine")
    (root / "alias.txt").symlink_to(root / "real.txt")
    with pytest.raises(ToolError, match="outside the project"):
        await call(tool, ctx, pattern="link_out/*")
    out = await call(tool, ctx, pattern="*.txt")
    assert "real.txt" in out.content.splitlines() and "shadow.txt" not in out.content
    if backend == "python":  # rg --files never lists file links; the Python walk keeps the inside ones
        assert "alias.txt" in out.content.splitlines()
    out = await call(tool, ctx, pattern="**/*")
    assert "secret" not in out.content and "shadow" not in out.content
