from __future__ import annotations

import pytest

from tests.tools.helpers import call
from tunacode_tui.tools.base import ToolContext, ToolError
from tunacode_tui.tools.todo import TodoTool

tool = TodoTool()


async def test_lifecycle(ctx: ToolContext) -> None:
    assert (await call(tool, ctx, action="list")).content == "No todos yet."
    await call(tool, ctx, action="add", content="write tests")
    await call(tool, ctx, action="add", content="ship it")
    await call(tool, ctx, action="update", id=1, status="in_progress")
    await call(tool, ctx, action="update", id="2", content="ship it today")
    out = await call(tool, ctx, action="complete", id=1)
    assert out.content == "Completed todo 1.\nTodos (1/2 done):\n[x] 1. write tests\n[ ] 2. ship it today"
    assert ctx.todos == [
        {"id": 1, "content": "write tests", "status": "completed"},
        {"id": 2, "content": "ship it today", "status": "pending"},
    ]


async def test_concurrent_adds_get_distinct_ids(ctx: ToolContext) -> None:
    import asyncio

    await asyncio.gather(*(call(tool, ctx, action="add", content=f"t{i}") for i in range(20)))
    assert sorted(t["id"] for t in ctx.todos) == list(range(1, 21))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"action": "remove"}, "Unknown action"),
        ({"action": "add"}, "non-empty `content`"),
        ({"action": "add", "content": "  "}, "non-empty `content`"),
        ({"action": "complete"}, "needs `id`"),
        ({"action": "complete", "id": 9}, "No todo with id 9"),
        ({"action": "complete", "id": 1.5}, "'id' must be an integer"),
        ({"action": "update", "id": 1}, "needs `content`, `status`"),
        ({"action": "update", "id": 1, "status": "done"}, "Unknown status"),
        ({"action": 3}, "'action' must be a string"),
    ],
)
async def test_errors(ctx: ToolContext, args: dict[str, object], message: str) -> None:
    ctx.todos.append({"id": 1, "content": "x", "status": "pending"})
    with pytest.raises(ToolError, match=message):
        await tool.run(args, ctx)
