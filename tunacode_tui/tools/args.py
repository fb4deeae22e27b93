"""Argument checks shared by the tools.

Arguments come from a model, not from typed code: a wrong type must become a ``ToolError`` the model can
read and fix, never a ``TypeError`` deep inside a tool.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tunacode_tui.tools.base import ToolError


def check_known(args: Mapping[str, Any], tool: str, allowed: Sequence[str]) -> None:
    """Refuse misspelled arguments: silently ignoring ``filepath`` would read the wrong file."""
    if not isinstance(args, Mapping):
        raise ToolError(f"{tool}: arguments must be a JSON object, got {type(args).__name__}.")
    unknown = sorted(set(args) - set(allowed))
    if unknown:
        raise ToolError(
            f"{tool}: unknown argument(s) {', '.join(map(repr, unknown))}. Allowed arguments: {', '.join(allowed)}."
        )


def require_str(args: Mapping[str, Any], name: str, *, allow_empty: bool = True) -> str:
    value = args.get(name)
    if value is None:
        raise ToolError(f"Missing required argument '{name}' (a string).")
    return _as_str(name, value, allow_empty=allow_empty)


def get_str(args: Mapping[str, Any], name: str, default: str) -> str:
    value = args.get(name)
    return default if value is None else _as_str(name, value, allow_empty=True)


def get_opt_str(args: Mapping[str, Any], name: str) -> str | None:
    value = args.get(name)
    return None if value is None else _as_str(name, value, allow_empty=True)


def _as_str(name: str, value: object, *, allow_empty: bool) -> str:
    if not isinstance(value, str):
        raise ToolError(f"Argument '{name}' must be a string, got {type(value).__name__}.")
    if not allow_empty and not value:
        raise ToolError(f"Argument '{name}' must not be empty.")
    return value


def get_int(
    args: Mapping[str, Any],
    name: str,
    default: int,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int:
    value = args.get(name)
    if value is None:
        return default
    # bool is an int subclass; ``true`` as a line count is a model mistake worth reporting.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ToolError(f"Argument '{name}' must be an integer, got {type(value).__name__}.")
    if isinstance(value, float):
        if not value.is_integer():
            raise ToolError(f"Argument '{name}' must be an integer, got {value!r}.")
        value = int(value)
    if minimum is not None and value < minimum:
        raise ToolError(f"Argument '{name}' must be >= {minimum}, got {value}.")
    if maximum is not None and value > maximum:
        raise ToolError(f"Argument '{name}' must be <= {maximum}, got {value}.")
    return value


def get_number(args: Mapping[str, Any], name: str, default: float, *, minimum: float, maximum: float) -> float:
    value = args.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ToolError(f"Argument '{name}' must be a number, got {type(value).__name__}.")
    if not minimum <= value <= maximum:
        raise ToolError(f"Argument '{name}' must be between {minimum:g} and {maximum:g}, got {value}.")
    return float(value)


def get_bool(args: Mapping[str, Any], name: str, default: bool) -> bool:
    value = args.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ToolError(f"Argument '{name}' must be a boolean (true/false), got {type(value).__name__}.")
    return value
