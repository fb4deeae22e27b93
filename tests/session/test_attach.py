"""A real agent turn, journaled by a ``JournalListener`` subscribed to the agent, replays to the agent's own
state."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, ClassVar

from tunacode_tui.agent.compaction import SUMMARY_PREFIX
from tunacode_tui.agent.loop import Agent
from tunacode_tui.config.settings import Config
from tunacode_tui.core.events import AgentEvent, Notice, SettingsChanged, ToolCallFinished, TurnEnded
from tunacode_tui.core.messages import Message, TextPart, ToolCallPart, Usage
from tunacode_tui.core.stream import StreamEnded, StreamEvent
from tunacode_tui.providers.base import ChatRequest, ModelRef
from tunacode_tui.session.journal import JournalListener, SessionJournal
from tunacode_tui.session.store import load_session
from tunacode_tui.tools.base import Tool, ToolContext, ToolOutput


class ScriptedProvider:
    """Answers each request with the next scripted assistant message."""

    name = "fake"

    def __init__(self, replies: list[Message]) -> None:
        self.replies = replies

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        message = self.replies.pop(0)
        yield StreamEnded("tool_use" if message.tool_calls else "end_turn", message, Usage(100, 10))

    async def aclose(self) -> None:
        pass


class NoteTool(Tool):
    """Echoes and adds a todo in place, the way the todo tool edits the shared list."""

    name = "note"
    description = "test"
    parameters: ClassVar[dict[str, Any]] = {"type": "object", "properties": {"text": {"type": "string"}}}
    read_only = True

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        ctx.todos.append({"content": args["text"], "status": "pending"})
        return ToolOutput(f"noted {args['text']}")


async def test_attached_agent_turn_replays_to_the_same_state(project: Path) -> None:
    provider = ScriptedProvider(
        [
            Message(
                "assistant", [ToolCallPart("c1", "note", {"text": "a"}), ToolCallPart("c2", "note", {"text": "b"})]
            ),
            Message("assistant", [TextPart("done")]),
        ]
    )
    agent = Agent(
        config=Config(), model=ModelRef("fake", "model"), provider_factory=lambda ref: provider,
        tools=[NoteTool()], root=project,
    )
    journal = SessionJournal(root=project, model=agent.model.full_name)
    agent.subscribe(JournalListener(journal, agent.state, report=agent.publish))
    events: list[AgentEvent] = []

    await agent.run_turn("take notes", events.append)
    agent.set_model(ModelRef("fake", "other"))
    journal.close()

    assert any(isinstance(e, ToolCallFinished) for e in events)  # events still reach the real sink
    loaded = load_session(journal.id)
    state = loaded.state
    assert loaded.warnings == []
    assert state.messages == agent.state.messages and len(state.messages) == 4
    assert state.todos == agent.state.todos == [
        {"content": "a", "status": "pending"}, {"content": "b", "status": "pending"}
    ]
    assert state.usage == agent.state.usage == Usage(200, 20)
    assert state.requests == agent.state.requests == 2
    assert [c.call_id for c in state.calls] == [c.call_id for c in agent.state.calls]
    assert [b.size for b in state.batches] == [b.size for b in agent.state.batches] == [2]
    assert state.next_batch == agent.state.next_batch
    assert loaded.model == "fake:other"


async def test_compaction_through_the_agent_is_journaled(project: Path) -> None:
    provider = ScriptedProvider([Message.assistant("the gist")])
    agent = Agent(
        config=Config(), model=ModelRef("fake", "model"), provider_factory=lambda ref: provider,
        tools=[], root=project,
    )
    journal = SessionJournal(root=project, model="fake:model")
    agent.subscribe(JournalListener(journal, agent.state))
    for text in ("one", "two", "three"):
        agent.state.messages.append(Message.user(text))
        journal.message(agent.state.messages[-1])

    assert await agent.compact() == "the gist"
    journal.close()

    assert agent.state.messages[0].text == SUMMARY_PREFIX + "the gist"
    assert [m.text for m in agent.state.messages[2:]] == ["two", "three"]
    assert load_session(journal.id).state.messages == agent.state.messages
    lines = journal.path.read_text(encoding="utf-8")
    assert '"summary":"the gist","kept_count":2' in lines


async def test_clear_and_model_change_are_journaled_as_events(project: Path) -> None:
    agent = Agent(
        config=Config(), model=ModelRef("fake", "model"), provider_factory=lambda ref: ScriptedProvider([]),
        tools=[], root=project,
    )
    journal = SessionJournal(root=project, model="fake:model")
    agent.subscribe(JournalListener(journal, agent.state))
    agent.state.messages.append(Message.user("one"))
    journal.message(agent.state.messages[-1])
    agent.clear(reset_totals=True)
    agent.set_model(ModelRef("fake", "other"))
    journal.close()

    loaded = load_session(journal.id)
    assert loaded.state.messages == [] and loaded.model == "fake:other"
    records = journal.path.read_text(encoding="utf-8")
    assert records.count('"type":"clear"') == 1 and '"totals":true' in records


async def test_journal_failure_between_turns_is_reported_when_the_next_turn_starts(project: Path) -> None:
    provider = ScriptedProvider([Message.assistant("hi")])
    agent = Agent(
        config=Config(), model=ModelRef("fake", "model"), provider_factory=lambda ref: provider,
        tools=[], root=project,
    )
    journal = SessionJournal(root=project, model="fake:model")
    agent.subscribe(JournalListener(journal, agent.state, report=agent.publish))
    journal.close()
    journal._fd = os.open(journal.path, os.O_RDONLY)  # writes now fail, as on a dead disk
    agent.set_model(ModelRef("fake", "other"))  # between turns: the write fails, nobody to tell yet
    assert journal.failed is not None
    events: list[AgentEvent] = []
    await agent.run_turn("hello", events.append)
    os.close(journal._fd)
    journal._fd = None
    assert [e.text for e in events if isinstance(e, Notice) and e.level == "error"] == [journal.failed]


async def test_todos_written_again_after_a_clear_survive_resume(project: Path) -> None:
    agent = Agent(
        config=Config(), model=ModelRef("fake", "model"), provider_factory=lambda ref: ScriptedProvider([]),
        tools=[], root=project,
    )
    journal = SessionJournal(root=project, model="fake:model")
    listener = JournalListener(journal, agent.state)
    agent.subscribe(listener)
    todo = {"content": "A", "status": "pending"}
    agent.state.todos.append(dict(todo))
    listener(TurnEnded("", 1, Usage(), 0.0, "completed"))
    agent.clear()
    agent.state.todos.append(dict(todo))
    listener(TurnEnded("", 1, Usage(), 0.0, "completed"))
    journal.close()
    assert load_session(journal.id).state.todos == [todo]


async def test_session_settings_are_journaled_through_the_agent(project: Path) -> None:
    agent = Agent(
        config=Config(), model=ModelRef("fake", "model"), provider_factory=lambda ref: ScriptedProvider([]),
        tools=[], root=project,
    )
    journal = SessionJournal(root=project, model="fake:model")
    agent.subscribe(JournalListener(journal, agent.state))
    agent.publish(SettingsChanged({"yolo": True, "max_iterations": 7}, 0.0))
    journal.close()
    loaded = load_session(journal.id)
    assert loaded.settings == {"yolo": True, "max_iterations": 7} and loaded.state.max_iterations == 7
