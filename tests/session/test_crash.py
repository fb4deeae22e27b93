"""A process killed with SIGKILL mid-write leaves a journal that still loads into a valid history."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tunacode_tui.core.messages import Message
from tunacode_tui.session.store import load_session, resume_session

# Writes whole turns, printing the line count after every record; in turn 10 it stops inside a "tool run"
# (blocked on stdin) right after journaling the assistant's tool call: the moment a real kill hurts most.
WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from tunacode_tui.core.messages import Message, TextPart, ToolCallPart, ToolResultPart
    from tunacode_tui.session.journal import SessionJournal

    journal = SessionJournal(root=Path(sys.argv[1]), model="fake:model")
    print(journal.path, flush=True)
    filler = "x" * 20_000
    lines = 1
    i = 0
    while True:
        i += 1
        call = ToolCallPart(f"c{i}", "read_file", {"file_path": f"f{i}"})
        journal.message(Message.user(f"prompt {i}"))
        journal.message(Message("assistant", [TextPart(filler), call]))
        lines += 2
        print(lines, flush=True)
        if i == 10:
            sys.stdin.readline()  # the tool "runs" until the process is killed
        journal.message(Message("tool", [ToolResultPart(call.id, call.name, filler)]))
        journal.message(Message.assistant(f"answer {i}"))
        lines += 2
        print(lines, flush=True)
    """
)

KILL_AFTER_LINES = 1 + 9 * 4 + 2  # the header, nine whole turns, then a prompt and a tool call


def assert_valid_history(messages: list[Message]) -> None:
    """Every tool call is answered by the very next message, and every result answers a call."""
    for index, message in enumerate(messages):
        if message.role == "assistant" and message.tool_calls:
            answer = messages[index + 1]
            assert answer.role == "tool"
            assert {c.id for c in message.tool_calls} <= {r.tool_call_id for r in answer.tool_results}
        if message.role == "tool":
            calls = {c.id for c in messages[index - 1].tool_calls}
            assert {r.tool_call_id for r in message.tool_results} <= calls


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_sigkill_mid_session_still_loads(project: Path, data_dir: Path) -> None:
    env = {**os.environ, "TUNACODE_DATA_DIR": str(data_dir)}
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(project)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert proc.stdout is not None
        path = Path(proc.stdout.readline().strip())
        while (line := proc.stdout.readline()) and int(line) < KILL_AFTER_LINES:
            pass
        assert line, "the writer exited before reaching the kill point"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None and proc.returncode is None:
            proc.kill()  # the test failed before its own kill: do not leave the writer blocked
        proc.wait(timeout=30)
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                stream.close()
    assert proc.returncode == -signal.SIGKILL

    loaded = load_session(path)
    messages = loaded.state.messages
    assert len(messages) == KILL_AFTER_LINES  # every journaled message, plus the repair
    assert messages[0].text == "prompt 1" and messages[-3].text == "prompt 10"
    assert messages[-1].role == "tool" and messages[-1].tool_results[0].tool_call_id == "c10"
    assert messages[-1].tool_results[0].is_error
    assert_valid_history(messages)
    assert len(loaded.warnings) == 1 and "marked as cancelled" in loaded.warnings[0]

    # The conversation continues in the same file and still loads cleanly.
    _, journal = resume_session(path)
    with journal:
        journal.message(Message.user("resumed"))
    again = load_session(path)
    assert again.warnings == []
    assert again.state.messages[-1].text == "resumed"
    assert_valid_history(again.state.messages)
