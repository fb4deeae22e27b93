"""Where tools may look and write: inside the project root or a folder the user allowed, never ``.git``.

Every path a model names goes through ``resolve_path`` so confinement is decided once, after symlinks are
resolved, instead of each tool guessing.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from tunacode_tui.tools.base import ToolContext, ToolError

_MAX_RESOLVE_PASSES = 8


def allowed_roots(ctx: ToolContext) -> list[Path]:
    """The resolved folders a tool may touch, project root first."""
    return [_resolve(ctx.root), *(_resolve(d) for d in ctx.allowed_dirs)]


def resolve_path(ctx: ToolContext, path: str, *, for_write: bool) -> Path:
    """Resolve a model-supplied path to a real absolute path inside the allowed folders.

    Symlinks are resolved before the check, so a link inside the root that points outside is refused.
    """
    if not isinstance(path, str):
        raise ToolError(f"A path must be a string, got {type(path).__name__}.")
    if not path.strip():
        raise ToolError("The path is empty. Pass a path relative to the project root, e.g. 'src/main.py'.")
    if "\x00" in path:
        raise ToolError("The path contains a NUL character; pass a plain file path.")
    candidate = Path(os.path.expanduser(path))
    if not candidate.is_absolute():
        candidate = Path(ctx.root) / candidate
    resolved = _resolve(candidate)
    roots = allowed_roots(ctx)
    container = next((r for r in roots if resolved == r or resolved.is_relative_to(r)), None)
    if container is None:
        raise ToolError(
            f"Access denied: '{path}' resolves to {resolved}, which is outside the project root "
            f"({roots[0]}). Use a path inside the project."
        )
    if for_write and any(part.casefold() == ".git" for part in resolved.relative_to(container).parts):
        raise ToolError(
            f"Refusing to write '{path}': it is inside a .git directory, which only git should modify. "
            "Use git commands through bash instead."
        )
    return resolved


def inside_allowed(path: Path | str, roots: list[Path]) -> bool:
    """Does ``path``, symlinks resolved, lie inside one of ``roots`` (from ``allowed_roots``)? A path
    that cannot be resolved (a loop) counts as outside."""
    try:
        resolved = _resolve(Path(path))
    except ToolError:
        return False
    return any(resolved == r or resolved.is_relative_to(r) for r in roots)


def display_path(ctx: ToolContext, path: Path) -> str:
    """How a path is shown to the model: relative to the root when inside it, absolute otherwise."""
    root = _resolved_root(ctx.root)
    try:
        rel = path.relative_to(root)
    except ValueError:
        return str(path)
    return rel.as_posix() if rel.parts else "."


@functools.lru_cache(maxsize=64)
def _resolved_root(root: Path) -> Path:
    # Listing thousands of matches must not resolve the same root thousands of times.
    return _resolve(root)


def _resolve(path: Path) -> Path:
    """Resolve to a fixpoint: after a symlink loop, ``resolve`` folds ``loop/../link`` to ``link``
    without resolving ``link`` itself, so one pass can return a path that still leads elsewhere."""
    current = Path(path)
    try:
        for _ in range(_MAX_RESOLVE_PASSES):
            resolved = current.resolve(strict=False)
            if resolved == current:
                return resolved
            current = resolved
    except (RuntimeError, OSError) as exc:  # symlink loop (RuntimeError on 3.11, OSError later)
        raise ToolError(f"Cannot resolve '{path}': {exc}. It may be a symlink loop.") from exc
    raise ToolError(f"Cannot resolve '{path}': its symlinks do not settle. It may be a symlink loop.")
