"""Tool analytics on hand-made timings: counts, mean, nearest-rank p95, overlap and measured speedups."""

from __future__ import annotations

import pytest

from tunacode_tui.core.events import BatchFinished, BatchMeasured, MeasuredRun, ToolCallFinished
from tunacode_tui.session.analytics import nearest_rank, tool_analytics


def call(batch: int, name: str, started: float, duration: float, ok: bool = True) -> ToolCallFinished:
    return ToolCallFinished(batch, f"{name}-{started}", name, {}, ok, "", None, started, started + duration)


def test_per_tool_counts_mean_and_p95() -> None:
    # 20 grep calls of 0.1 .. 2.0 s: mean 1.05, nearest-rank p95 = ceil(0.95 * 20) = 19th = 1.9
    greps = [call(i + 1, "grep", 0.0, (i + 1) / 10, ok=i != 3) for i in range(20)]
    reads = [call(1, "read_file", 0.0, 0.5), call(2, "read_file", 0.0, 1.5, ok=False)]
    result = tool_analytics([*greps, *reads], [])
    grep, read = result.tools
    assert (grep.name, grep.calls, grep.failures) == ("grep", 20, 1)
    assert grep.mean == pytest.approx(1.05)
    assert grep.p95 == pytest.approx(1.9)
    assert (read.name, read.calls, read.failures) == ("read_file", 2, 1)
    assert read.mean == pytest.approx(1.0) and read.p95 == pytest.approx(1.5)
    assert result.total_calls == 22


def test_nearest_rank() -> None:
    assert nearest_rank([], 95) == 0.0
    assert nearest_rank([3.0], 95) == 3.0
    assert nearest_rank([5.0, 1.0, 4.0, 2.0, 3.0], 95) == 5.0  # ceil(4.75) = 5th
    assert nearest_rank([5.0, 1.0, 4.0, 2.0, 3.0], 50) == 3.0


def test_batches_and_mean_overlap() -> None:
    calls = [
        # Batch 1: three calls of 1 s overlapping in 1.25 s of wall time -> 2.4x.
        call(1, "grep", 0.0, 1.0), call(1, "grep", 0.1, 1.0), call(1, "read_file", 0.25, 1.0),
        # Batch 2: two calls, 0.5 s and 1.5 s, in 1.5 s -> 1.333x.
        call(2, "read_file", 10.0, 0.5), call(2, "read_file", 10.0, 1.5),
        # Batch 3: one write, sequential: not a parallel batch.
        call(3, "write_file", 20.0, 0.2),
    ]
    batches = [
        BatchFinished(1, 3, True, 0.0, 1.25, busy=99.0),  # the calls' own timings win over a stale busy
        BatchFinished(2, 2, True, 10.0, 11.5, busy=2.0),
        BatchFinished(3, 1, False, 20.0, 20.2, busy=0.2),
        BatchFinished(4, 2, True, 30.0, 32.0, busy=3.0),  # no call records: falls back to busy -> 1.5x
    ]
    result = tool_analytics(calls, batches)
    assert result.batches == 4
    assert result.parallel_batches == 3
    assert result.mean_batch_size == pytest.approx(2.0)
    assert result.mean_overlap == pytest.approx((3.0 / 1.25 + 2.0 / 1.5 + 3.0 / 2.0) / 3)
    assert result.measured == [] and result.mean_measured_speedup is None
    assert "Measured speedup: none yet" in result.render_text()


def test_render_text_is_an_aligned_table() -> None:
    calls = [call(1, "grep", 0.0, 0.012), call(1, "read_file", 0.0, 1.5, ok=False)]
    text = tool_analytics(calls, [BatchFinished(1, 2, True, 0.0, 1.5, 1.512)]).render_text()
    lines = text.splitlines()
    assert lines[0].split() == ["Tool", "Calls", "Failed", "Mean", "p95"]
    assert lines[2].startswith("grep ") and "12 ms" in lines[2]
    assert lines[3].startswith("read_file") and "1.50 s" in lines[3]
    # Right-aligned numeric columns end in the same place on every row.
    assert len({len(line) for line in lines[:4]}) == 1
    assert "2 call(s) in 1 batch(es), mean batch size 2.0" in text
    assert "mean overlap 1.01 (calls running at once; not a speedup)" in text
    assert "speedup 1.01" not in text
    assert tool_analytics([], []).render_text() == "No tool calls yet."


def measured(batch: int, sequential: list[float], parallel: list[float], changed: list[str] | None = None
             ) -> BatchMeasured:
    runs = [MeasuredRun("sequential", s) for s in sequential] + [MeasuredRun("parallel", p) for p in parallel]
    return BatchMeasured(batch, 2, 4, runs, changed or [])


def test_measured_speedups_are_reported_apart_from_the_overlap() -> None:
    calls = [call(1, "grep", 0.0, 1.0), call(1, "grep", 0.0, 1.0), call(2, "grep", 5.0, 1.0), call(2, "grep", 5.0, 1.0)]
    batches = [BatchFinished(1, 2, True, 0.0, 1.0, 2.0), BatchFinished(2, 2, True, 5.0, 6.0, 2.0)]
    runs = [
        measured(2, [0.30, 0.20, 0.25], [0.20, 0.30, 0.25]),  # medians 0.25 / 0.25 -> 1.0x
        measured(1, [1.0, 0.9, 1.1], [0.5, 0.4, 0.6]),  # 1.0 / 0.5 -> 2.0x
        measured(3, [1.0, 1.0, 1.0], [0.25, 0.25, 0.25], changed=["a.py"]),  # unreliable: left out of the mean
    ]
    result = tool_analytics(calls, batches, runs)
    assert result.mean_overlap == pytest.approx(2.0)
    assert result.measured == [(1, pytest.approx(2.0), True), (2, pytest.approx(1.0), True),
                               (3, pytest.approx(4.0), False)]
    assert result.mean_measured_speedup == pytest.approx(1.5)
    text = result.render_text()
    assert "mean overlap 2.00" in text
    assert "Measured speedup: mean 1.50× over 3 re-run batch(es): #1 2.00×, #2 1.00×, #3 4.00× (unreliable)" in text
