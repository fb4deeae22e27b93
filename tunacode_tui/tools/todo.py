"""todo: the model's task list for the session, kept in ``ctx.todos`` (memory only, no files)."""

from __future__ import annotations

from typing import Any, ClassVar

from tunacode_tui.tools.args import check_known, get_opt_str, require_str
from tunacode_tui.tools.base import Tool, ToolContext, ToolError, ToolOutput

ACTIONS = ("add", "update", "complete", "list")
STATUSES = ("pending", "in_progress", "completed")
_MARKS = {"pending": "[ ]", "in_progress": "[~]", "completed": "[x]"}


class TodoTool(Tool):
    """Lets the model plan multi-step work and show progress.

    Marked ``read_only`` although it changes state: it touches no files, only ``ctx.todos``, and each
    call runs start to finish on the event loop without awaiting, so concurrent calls in one batch
    apply in order and cannot interleave. Making it a barrier would serialise batches for nothing.
    """

    name: ClassVar[str] = "todo"
    description: ClassVar[str] = (
        "Track a task list for this session. action=add (content) adds a pending item; action=update (id, "
        "and content and/or status: pending | in_progress | completed) changes one; action=complete (id) "
        "marks one done; action=list shows them. Every call returns the whole list."
    )
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "action": {"type": "string", "enum": list(ACTIONS)},
            "content": {"type": "string", "description": "Task text (add, update)."},
            "id": {"type": "integer", "description": "Task id (update, complete)."},
            "status": {"type": "string", "enum": list(STATUSES), "description": "New status (update)."},
        },
        "required": ["action"],
        "additionalProperties": False,
    }
    read_only: ClassVar[bool] = True

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        check_known(args, self.name, ("action", "content", "id", "status"))
        action = require_str(args, "action")
        if action not in ACTIONS:
            raise ToolError(f"Unknown action {action!r}. Use one of: {', '.join(ACTIONS)}.")
        todos = ctx.todos
        if action == "add":
            content = _content(args, required=True)
            assert content is not None
            new_id = max((int(t["id"]) for t in todos), default=0) + 1
            todos.append({"id": new_id, "content": content, "status": "pending"})
            headline = f"Added todo {new_id}."
        elif action == "update":
            item = _find(todos, args)
            content = _content(args, required=False)
            status = get_opt_str(args, "status")
            if content is None and status is None:
                raise ToolError("update needs `content`, `status` or both.")
            if status is not None:
                item["status"] = _check_status(status)
            if content is not None:
                item["content"] = content
            headline = f"Updated todo {item['id']}."
        elif action == "complete":
            item = _find(todos, args)
            item["status"] = "completed"
            headline = f"Completed todo {item['id']}."
        else:
            headline = ""
        body = render_todos(todos)
        return ToolOutput(f"{headline}\n{body}".strip(), metadata={"todos": [dict(t) for t in todos]})


def render_todos(todos: list[dict[str, Any]]) -> str:
    if not todos:
        return "No todos yet."
    done = sum(t["status"] == "completed" for t in todos)
    lines = [f"Todos ({done}/{len(todos)} done):"]
    lines += [f"{_MARKS.get(t['status'], '[?]')} {t['id']}. {t['content']}" for t in todos]
    return "\n".join(lines)


def _content(args: dict[str, Any], *, required: bool) -> str | None:
    content = get_opt_str(args, "content")
    if content is not None:
        content = content.strip()
    if required and not content:
        raise ToolError("add needs a non-empty `content`.")
    return content or None


def _check_status(status: str) -> str:
    if status not in STATUSES:
        raise ToolError(f"Unknown status {status!r}. Use one of: {', '.join(STATUSES)}.")
    return status


def _find(todos: list[dict[str, Any]], args: dict[str, Any]) -> dict[str, Any]:
    raw = args.get("id")
    if raw is None:
        raise ToolError("This action needs `id` (an integer from the list).")
    # Models often quote numbers; "3" is unambiguous, so accept it.
    if isinstance(raw, str) and raw.strip().isdigit():
        raw = int(raw.strip())
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise ToolError(f"Argument 'id' must be an integer, got {type(raw).__name__}.")
    for item in todos:
        if item["id"] == raw:
            return item
    known = ", ".join(str(t["id"]) for t in todos) or "none"
    raise ToolError(f"No todo with id {raw}. Existing ids: {known}. Use action=list to see them.")
