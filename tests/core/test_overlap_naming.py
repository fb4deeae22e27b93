"""No figure called "speedup" may hold busy/wall: that ratio is the batch's overlap (calls running at once),
and calls contending for the CPU raise it although nothing finished sooner. Only a re-run measures a speedup.

Two checks: the source of the whole package (TUI included) is read for any name, key, argument or label
called speedup that is computed from busy time or the overlap; and every place that shows an unmeasured
batch is rendered to see that no number is labelled a speedup there.
"""

from __future__ import annotations

import ast
import io
import json
import re
from pathlib import Path

from tunacode_tui.core.events import BatchFinished, BatchMeasured, MeasuredRun
from tunacode_tui.headless import JsonLinesSink
from tunacode_tui.session.analytics import tool_analytics
from tunacode_tui.ui.activity import ActivityLog, batch_message
from tunacode_tui.ui.screens.batch_inspector import UNMEASURED_TEXT, batch_title

PACKAGE = Path(__file__).resolve().parents[2] / "tunacode_tui"
SUSPECT = {"busy", "overlap", "overlaps"}
# A number labelled as a speedup, either way round: "2.8x speedup", "speedup 2.8", "speedup: 2.8".
SPEEDUP_FIGURE = re.compile(r"\d(\.\d+)?\s*[x×]?\s*speedup|speedup\W{0,3}\d", re.IGNORECASE)


def _names(node: ast.AST) -> set[str]:
    out: set[str] = set()
    for child in ast.walk(node):
        if isinstance(child, ast.Name):
            out.add(child.id)
        elif isinstance(child, ast.Attribute):
            out.add(child.attr)
    return out


def _problems(path: Path, base: Path = PACKAGE.parent) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []

    def check(where: int, label: str, value: ast.AST) -> None:
        if "speedup" in label.lower() and (_names(value) & SUSPECT):
            found.append(f"{path.relative_to(base)}:{where}: {label!r} is computed from busy/overlap")

    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            check(node.lineno, node.name, ast.Module(body=node.body, type_ignores=[]))
        elif isinstance(node, ast.keyword) and node.arg:
            check(node.value.lineno, node.arg, node.value)
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    check(value.lineno, key.value, value)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if node.value is not None:
                    check(node.lineno, ast.unparse(target), node.value)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr in ("append", "extend", "add") and node.args):
            check(node.lineno, ast.unparse(node.func.value), node.args[0])  # speedups.append(busy / wall)
        elif isinstance(node, ast.JoinedStr):
            literal = "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
            formatted = [v for v in node.values if isinstance(v, ast.FormattedValue)]
            for value in formatted:
                check(node.lineno, literal, value)
    return found


def test_the_checker_catches_the_old_naming(tmp_path: Path) -> None:
    """The scan must be able to fail: the code this issue replaced is caught."""
    sample = tmp_path / "old.py"
    sample.write_text(
        "class B:\n"
        "    @property\n"
        "    def speedup(self):\n"
        "        return self.busy / self.wall\n"
        "def label(record):\n"
        "    return f'{record.overlap:.1f}x speedup'\n"
        "record = {'speedup': round(b.busy / b.wall, 3)}\n"
        "speedups.append(busy / batch.wall)\n"
    )
    assert len(_problems(sample, tmp_path)) == 4


def test_no_speedup_is_computed_from_busy_time_anywhere_in_the_package() -> None:
    sources = [*PACKAGE.rglob("*.py"), *(PACKAGE.parent / "benchmarks").rglob("*.py")]
    problems = [problem for path in sorted(sources) for problem in _problems(path)]
    assert len(sources) > 50 and problems == []


def test_an_unmeasured_batch_shows_no_speedup_figure_anywhere() -> None:
    # Four CPU-bound greps: they overlapped 3.4x, which says nothing about finishing sooner.
    batch = BatchFinished(3, 4, True, 100.0, 100.080, busy=0.272)
    log = ActivityLog()
    record = log.apply(batch)
    assert record is not None
    shown = [batch_message(record), batch_title(record), UNMEASURED_TEXT]
    out = io.StringIO()
    JsonLinesSink(out, "stream-json", yolo=False, t0=0.0)(batch)
    shown.append(out.getvalue())
    shown.append(tool_analytics([], [batch]).render_text())
    for text in shown:
        assert not SPEEDUP_FIGURE.search(text), text
    assert "overlap 3.4" in batch_message(record) and "overlap 3.4" in batch_title(record)
    [line] = [json.loads(x) for x in out.getvalue().splitlines()]
    assert line["overlap"] == 3.4 and "speedup" not in line


def test_a_measured_batch_shows_what_was_measured() -> None:
    batch = BatchFinished(3, 4, True, 100.0, 100.080, busy=0.272)
    runs = [MeasuredRun(mode, wall) for mode, wall in
            [("sequential", 0.080), ("parallel", 0.075), ("sequential", 0.085), ("parallel", 0.070),
             ("sequential", 0.078), ("parallel", 0.090)]]
    log = ActivityLog()
    log.apply(batch)
    record = log.apply(BatchMeasured(3, 4, 4, runs))
    assert record is not None and record.measured is not None
    assert record.measured.speedup is not None and abs(record.measured.speedup - 0.080 / 0.075) < 1e-9
    assert "measured speedup 1.1x" in batch_message(record)
