from __future__ import annotations

import subprocess
import sys

import pytest

from tunacode_tui.tools.base import Tool
from tunacode_tui.tools.registry import ToolRegistry, default_tools
from tunacode_tui.tools.todo import TodoTool

EXPECTED = ["read_file", "list_dir", "glob", "grep", "web_fetch", "todo", "write_file", "update_file", "bash"]


def test_default_order_and_flags() -> None:
    registry = ToolRegistry()
    assert registry.names() == EXPECTED
    assert [s.name for s in registry.specs()] == EXPECTED
    writers = {t.name for t in registry if not t.read_only}
    assert writers == {"write_file", "update_file", "bash"}


@pytest.mark.parametrize("tool", default_tools(), ids=lambda t: t.name)
def test_schemas_are_strict_objects(tool: Tool) -> None:
    schema = tool.parameters
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) <= set(schema["properties"])
    assert tool.description and tool.spec().parameters is schema


def test_get_and_duplicates() -> None:
    registry = ToolRegistry([TodoTool()])
    assert registry.get("todo") is not None
    assert registry.get("nope") is None
    assert "todo" in registry and len(registry) == 1
    with pytest.raises(ValueError, match="duplicate"):
        ToolRegistry([TodoTool(), TodoTool()])


def test_core_tools_never_import_textual() -> None:
    code = (
        "import sys, pkgutil, importlib, tunacode_tui.tools as t\n"
        "for m in pkgutil.iter_modules(t.__path__): importlib.import_module('tunacode_tui.tools.' + m.name)\n"
        "assert 'textual' not in sys.modules, 'textual imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
