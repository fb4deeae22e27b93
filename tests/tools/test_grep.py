from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from tests.tools.helpers import call
from tunacode_tui.tools.base import ToolContext, ToolError
from tunacode_tui.tools.grep import BACKEND_ENV, GrepTool, find_rg

HAVE_RG = find_rg() is not None
BACKENDS = [pytest.param("rg", marks=pytest.mark.skipif(not HAVE_RG, reason="ripgrep not installed")), "python"]


@pytest.fixture(params=BACKENDS)
def grep(request: pytest.FixtureRequest) -> GrepTool:
    return GrepTool(backend=request.param)


@pytest.fixture
def project(root: Path) -> Path:
    files = {
        "src/app.py": "import os\n\ndef main():\n    print('Needle in app')\n    return 0\n",
        "src/util.py": "NEEDLE = 1\nother = 2\n",
        "src/web/page.ts": "const needle = 'ts';\n",
        "src/web/page.tsx": "export const Needle = () => null;\n",
        "docs/guide.md": "Find the needle here.\n",
        "my dir/ünï code.py": "needle with spaces\n",
        "ignored.txt": "needle ignored\n",
        "debug.log": "needle log\n",
        "keep.log": "needle kept log\n",
        "out/gen.py": "needle generated\n",
        "src/out/nested.py": "needle nested out\n",
        "root_only.txt": "needle anchored\n",
        "src/root_only.txt": "needle not anchored\n",
        "deep/a/b/cache.tmp": "needle tmp\n",
        "node_modules/pkg/index.js": "needle dependency\n",
        ".hidden/secret.py": "needle hidden\n",
        "bin.dat": "",
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (root / "bin.dat").write_bytes(b"needle\x00\x01\x02binary")
    (root / ".gitignore").write_text("ignored.txt\n*.log\n!keep.log\n/out/\n/root_only.txt\n**/cache.tmp\n")
    return root


def _paths(content: str) -> set[str]:
    return {line.split(":", 1)[0] for line in content.splitlines() if ":" in line and not line.startswith("[")}


async def test_finds_matches_respecting_gitignore(grep: GrepTool, ctx: ToolContext, project: Path) -> None:
    out = await call(grep, ctx, pattern="needle")
    assert _paths(out.content) == {
        "src/app.py",
        "src/util.py",
        "src/web/page.ts",
        "src/web/page.tsx",
        "docs/guide.md",
        "my dir/ünï code.py",
        "keep.log",
        "src/out/nested.py",
        "src/root_only.txt",
    }
    assert "src/app.py:4:    print('Needle in app')" in out.content.splitlines()
    assert out.metadata["backend"] == grep.backend


async def test_both_backends_agree(ctx: ToolContext, project: Path) -> None:
    if not HAVE_RG:
        pytest.skip("ripgrep not installed")
    for args in ({"pattern": "needle", "context_lines": 1}, {"pattern": "need.e", "include": "*.py"}):
        rg = await GrepTool(backend="rg").run(dict(args), ctx)
        py = await GrepTool(backend="python").run(dict(args), ctx)
        assert sorted(rg.content.splitlines()) == sorted(py.content.splitlines())


async def test_include_globs(grep: GrepTool, ctx: ToolContext, project: Path) -> None:
    out = await call(grep, ctx, pattern="needle", include="*.{ts,tsx}")
    assert _paths(out.content) == {"src/web/page.ts", "src/web/page.tsx"}
    out = await call(grep, ctx, pattern="needle", include="src/**/*.py")
    assert _paths(out.content) == {"src/app.py", "src/util.py", "src/out/nested.py"}


async def test_case_and_fixed_string(grep: GrepTool, ctx: ToolContext, project: Path) -> None:
    out = await call(grep, ctx, pattern="NEEDLE", case_sensitive=True)
    assert _paths(out.content) == {"src/util.py"}
    (project / "re.txt").write_text("a.b(c)\naxb(c)\n")
    out = await call(grep, ctx, pattern="a.b(c)", fixed_string=True, path="re.txt")
    assert out.content == "re.txt:1:a.b(c)"


async def test_context_lines_and_separators(grep: GrepTool, ctx: ToolContext, root: Path) -> None:
    (root / "f.txt").write_text("".join(f"{'hit' if i in (3, 10) else 'line'} {i}\n" for i in range(1, 15)))
    out = await call(grep, ctx, pattern="hit", context_lines=1)
    assert out.content.splitlines() == [
        "f.txt-2-line 2",
        "f.txt:3:hit 3",
        "f.txt-4-line 4",
        "--",
        "f.txt-9-line 9",
        "f.txt:10:hit 10",
        "f.txt-11-line 11",
    ]


async def test_max_results_truncates_with_notice(grep: GrepTool, ctx: ToolContext, root: Path) -> None:
    (root / "many.txt").write_text("match\n" * 50)
    out = await call(grep, ctx, pattern="match", max_results=5)
    lines = out.content.splitlines()
    assert lines[:5] == [f"many.txt:{i}:match" for i in range(1, 6)]
    assert lines[-1] == "[truncated: showing first 5 matches; narrow the pattern or use include]"
    assert out.metadata["truncated"] is True


async def test_invalid_regex(grep: GrepTool, ctx: ToolContext, project: Path) -> None:
    with pytest.raises(ToolError, match=r"(?i)regex"):
        await call(grep, ctx, pattern="foo(")


async def test_no_matches(grep: GrepTool, ctx: ToolContext, project: Path) -> None:
    out = await call(grep, ctx, pattern="zzz_not_there")
    assert out.content.startswith("No matches for 'zzz_not_there'")


async def test_subfolder_and_single_file(grep: GrepTool, ctx: ToolContext, project: Path) -> None:
    out = await call(grep, ctx, pattern="needle", path="src/web")
    assert _paths(out.content) == {"src/web/page.ts", "src/web/page.tsx"}
    out = await call(grep, ctx, pattern="needle", path="my dir/ünï code.py")
    assert out.content == "my dir/ünï code.py:1:needle with spaces"


async def test_explicit_junk_folder_is_searched(grep: GrepTool, ctx: ToolContext, project: Path) -> None:
    out = await call(grep, ctx, pattern="needle", path="node_modules")
    assert _paths(out.content) == {"node_modules/pkg/index.js"}


async def test_long_lines_are_clipped(grep: GrepTool, ctx: ToolContext, root: Path) -> None:
    (root / "min.js").write_text("needle" + "x" * 5000 + "\n")
    out = await call(grep, ctx, pattern="needle")
    assert len(out.content) < 700
    assert "omitted" in out.content


async def test_crlf_files(grep: GrepTool, ctx: ToolContext, root: Path) -> None:
    (root / "w.txt").write_bytes(b"one\r\nneedle two\r\n")
    out = await call(grep, ctx, pattern="two$")
    assert out.content == "w.txt:2:needle two"


async def test_outside_root_and_missing(grep: GrepTool, ctx: ToolContext, outside: Path) -> None:
    with pytest.raises(ToolError, match="outside"):
        await call(grep, ctx, pattern="secret", path=str(outside))
    with pytest.raises(ToolError, match="not found"):
        await call(grep, ctx, pattern="x", path="missing")


async def test_argument_types(ctx: ToolContext) -> None:
    with pytest.raises(ToolError, match="'context_lines' must be an integer"):
        await call(GrepTool(), ctx, pattern="x", context_lines="2")
    with pytest.raises(ToolError, match="'case_sensitive' must be a boolean"):
        await call(GrepTool(), ctx, pattern="x", case_sensitive="yes")


async def test_env_var_forces_python_backend(ctx: ToolContext, project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(BACKEND_ENV, "python")
    out = await call(GrepTool(), ctx, pattern="needle", path="docs")
    assert out.metadata["backend"] == "python"
    assert out.content == "docs/guide.md:1:Find the needle here."


@pytest.mark.skipif(not HAVE_RG, reason="ripgrep not installed")
async def test_no_first_match_deadline_stops_rg(ctx: ToolContext, root: Path) -> None:
    # rg blocks forever reading a FIFO nobody writes to: the first-match deadline must stop it.
    os.mkfifo(root / "pipe")
    tool = GrepTool(backend="rg", first_match_timeout=0.3)
    started = time.monotonic()
    out = await call(tool, ctx, pattern="x", path="pipe")
    assert time.monotonic() - started < 5
    assert "within 0.3 s" in out.content and "stopped" in out.content
    assert out.metadata["stopped"] == "first_match_timeout"


async def test_python_backend_skips_fifos(ctx: ToolContext, root: Path) -> None:
    os.mkfifo(root / "pipe")
    (root / "a.txt").write_text("needle\n")
    out = await asyncio.wait_for(call(GrepTool(backend="python"), ctx, pattern="needle"), 5)
    assert out.content == "a.txt:1:needle"


async def test_broken_rg_binary_falls_back_to_python(
    ctx: ToolContext, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tunacode_tui.tools import grep as grep_module

    fake = root.parent / "rg-not-executable"
    fake.write_text("not a program")
    monkeypatch.setattr(grep_module, "find_rg", lambda: str(fake))
    (root / "a.txt").write_text("needle\n")
    out = await call(GrepTool(backend="auto"), ctx, pattern="needle")
    assert out.metadata["backend"] == "python"
    assert out.content == "a.txt:1:needle"


async def test_python_file_cap_is_not_reported_as_no_matches(ctx: ToolContext, root: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The fallback said "No matches" when it had merely stopped at its file cap (issue 12, item 8)."""
    from tunacode_tui.tools import grep_fallback

    monkeypatch.setattr(grep_fallback, "MAX_FILES", 5)
    for i in range(12):
        (root / f"f{i:02}.txt").write_text("nothing here\n")
    out = await call(GrepTool(backend="python"), ctx, pattern="needle")
    assert out.metadata["stopped"] == "file_cap"
    assert "first 5 files" in out.content and "not searched" in out.content
