"""Re-running a batch to measure what parallelism saved (agent/measure.py): I/O-bound calls approach
min(N, cap), a file changed between runs is named, writes are refused, and a cancel stops the runs."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, ClassVar

import pytest

from tunacode_tui.agent.measure import CallToRepeat, NotMeasurable, measure_calls
from tunacode_tui.tools.base import Tool, ToolContext, ToolOutput
from tunacode_tui.tools.registry import default_tools

WAIT = 0.2


class SlowRead(Tool):
    """A slow file system in miniature: each call waits on "the disk" for ``WAIT`` seconds, using no CPU."""

    name = "slow_read"
    description = "test read with a real wait"
    parameters: ClassVar[dict[str, Any]] = {"type": "object", "properties": {"key": {"type": "string"}}}
    read_only = True

    def __init__(self) -> None:
        self.started = 0
        self.first_started = asyncio.Event()

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        self.started += 1
        self.first_started.set()
        await asyncio.sleep(WAIT)
        return ToolOutput(f"content of {args['key']}")


def slow_calls(n: int) -> list[CallToRepeat]:
    return [CallToRepeat("slow_read", {"key": str(i)}) for i in range(n)]


@pytest.mark.parametrize(("n", "cap"), [(4, 4), (4, 2)])
async def test_io_bound_calls_approach_min_n_cap(tmp_path: Path, n: int, cap: int) -> None:
    tool = SlowRead()
    progress: list[tuple[int, int]] = []
    result = await measure_calls(slow_calls(n), {tool.name: tool}, ToolContext(root=tmp_path), cap=cap, batch=7,
                                 progress=lambda done, total: progress.append((done, total)))
    assert [run.mode for run in result.runs] == ["sequential", "parallel"] * 3  # alternating, 3 of each
    assert progress == [(i, 6) for i in range(1, 7)]
    assert tool.started == 6 * n
    assert (result.batch, result.size, result.cap, result.reliable) == (7, n, cap, True)
    assert result.sequential_wall >= n * WAIT * 0.95
    assert result.speedup == pytest.approx(result.sequential_wall / result.parallel_wall)
    # Loose on purpose: the machine is shared. The ideal is min(n, cap).
    assert result.speedup is not None and result.speedup > 0.6 * min(n, cap)
    low, high = result.spread("parallel")
    assert low <= result.parallel_wall <= high


async def test_unchanged_files_give_a_reliable_measurement_of_real_tools(tmp_path: Path) -> None:
    for i in range(20):
        (tmp_path / f"m{i}.py").write_text(f"def f{i}():\n    return {i}\n" * 40)
    tools = {tool.name: tool for tool in default_tools()}
    calls = [CallToRepeat("read_file", {"file_path": "m1.py"}), CallToRepeat("grep", {"pattern": "return 3"}),
             CallToRepeat("glob", {"pattern": "*.py"}), CallToRepeat("list_dir", {})]
    result = await measure_calls(calls, tools, ToolContext(root=tmp_path), cap=4)
    assert result.reliable and result.changed == []
    assert len(result.walls("sequential")) == len(result.walls("parallel")) == 3
    assert all(run.wall > 0 for run in result.runs)


async def test_a_file_changed_between_runs_is_named_and_unreliable(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "b.py").write_text("y = 1\n")
    tools = {tool.name: tool for tool in default_tools()}
    calls = [CallToRepeat("read_file", {"file_path": "a.py"}), CallToRepeat("read_file", {"file_path": "b.py"})]
    runs: list[str] = []

    def before_run(mode: str) -> None:
        runs.append(mode)
        if len(runs) == 4:  # someone saves b.py while the measurement runs
            (tmp_path / "b.py").write_text("y = 2  # edited\n")

    result = await measure_calls(calls, tools, ToolContext(root=tmp_path), cap=2, before_run=before_run)
    assert result.changed == ["b.py"]
    assert not result.reliable


async def test_a_grep_whose_matches_changed_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src/one.py").write_text("needle = 1\n")
    (tmp_path / "src/two.py").write_text("hay = 2\n")
    tools = {tool.name: tool for tool in default_tools()}
    calls = [CallToRepeat("grep", {"pattern": "needle"}), CallToRepeat("glob", {"pattern": "src/*.py"})]
    count = [0]

    def before_run(mode: str) -> None:
        count[0] += 1
        if count[0] == 2:
            (tmp_path / "src/two.py").write_text("needle = 2\n")

    result = await measure_calls(calls, tools, ToolContext(root=tmp_path), cap=2, before_run=before_run)
    assert "src/two.py" in result.changed and not result.reliable


async def test_writes_cannot_be_rerun(tmp_path: Path) -> None:
    tools = {tool.name: tool for tool in default_tools()}
    calls = [CallToRepeat("read_file", {"file_path": "a.py"}), CallToRepeat("write_file", {"file_path": "a.py"})]
    with pytest.raises(NotMeasurable, match="write_file"):
        await measure_calls(calls, tools, ToolContext(root=tmp_path), cap=2)
    assert not (tmp_path / "a.py").exists()


async def test_cancelling_stops_the_runs(tmp_path: Path) -> None:
    tool = SlowRead()
    progress: list[int] = []
    task = asyncio.ensure_future(measure_calls(slow_calls(3), {tool.name: tool}, ToolContext(root=tmp_path), cap=3,
                                               progress=lambda done, total: progress.append(done)))
    await tool.first_started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert progress == [] and tool.started == 1  # the first sequential call was running; nothing came after


async def test_a_batch_is_measured_under_the_cap_it_ran_under(tmp_path: Path) -> None:
    """A batch that ran at cap 2, measured after the session's cap became 1 (a resume with
    --max-parallel 1): the measurement must use the batch's own cap."""
    from tunacode_tui.agent.loop import Agent
    from tunacode_tui.agent.measure import measure_batch
    from tunacode_tui.config.settings import Config
    from tunacode_tui.core.events import BatchFinished, ToolCallFinished
    from tunacode_tui.providers.base import ModelRef

    config = Config()
    config.settings.max_parallel = 1
    agent = Agent(config=config, model=ModelRef("fake", "m"), provider_factory=lambda ref: None,  # type: ignore
                  tools=[SlowRead()], root=tmp_path)
    for i in range(2):
        agent.state.calls.append(ToolCallFinished(1, f"c{i}", "slow_read", {"key": str(i)}, True, "x", None,
                                                  0.0, WAIT))
    agent.state.batches.append(BatchFinished(1, 2, True, 0.0, WAIT, 2 * WAIT, active=WAIT, cap=2))
    result = await measure_batch(agent, 1, rounds=1)
    assert result.cap == 2
