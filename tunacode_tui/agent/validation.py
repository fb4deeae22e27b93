"""A small JSON-schema check for tool arguments, so a wrong type becomes a message the model can fix
instead of a crash inside a tool. Covers what tool schemas here use: required, types, enum, extras."""

from __future__ import annotations

from typing import Any

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
    "null": (type(None),),
}


def _type_ok(value: Any, expected: str | list[str]) -> bool:
    names = expected if isinstance(expected, list) else [expected]
    for name in names:
        kinds = _TYPES.get(name)
        if kinds is None:
            return True
        if isinstance(value, bool) and name in ("integer", "number"):
            continue
        if isinstance(value, kinds):
            return True
    return False


def validate_arguments(schema: dict[str, Any], args: dict[str, Any]) -> str | None:
    """Return ``None`` when ``args`` fit ``schema``, else one sentence saying what to change."""
    properties: dict[str, Any] = schema.get("properties", {})
    missing = [name for name in schema.get("required", []) if name not in args]
    if missing:
        return f"missing required argument(s): {', '.join(missing)}."
    if schema.get("additionalProperties") is False:
        extra = [name for name in args if name not in properties]
        if extra:
            return f"unknown argument(s): {', '.join(extra)}; expected: {', '.join(properties)}."
    for name, value in args.items():
        spec = properties.get(name)
        if not spec:
            continue
        if value is None and name not in schema.get("required", []):
            continue
        if "type" in spec and not _type_ok(value, spec["type"]):
            return f"{name} must be of type {spec['type']}, got {type(value).__name__} {str(value)[:60]!r}."
        if "enum" in spec and value not in spec["enum"]:
            return f"{name} must be one of {spec['enum']}, got {value!r}."
    return None
