"""A minimal reproduction of the Textual limit behind the streaming figure: one growing line costs a layout of the
whole screen, and that cost grows with every widget displayed, on screen or not.

Run: python -m benchmarks.textual_layout

Nothing of tunacode: a ``VerticalScroll`` holding N one-line ``Static`` widgets (as a chat holds blocks) and one
more, on screen, updated as a streamed answer grows. For each N, the time from ``update()`` to the frame being painted
(serialised to escape sequences, as a terminal driver would), median of 40 updates:

  layout=True    what a Markdown block does on every update (``Static.update``): the screen is laid out again
  layout=False   what is possible only when the height is known not to change: a repaint of that widget

The difference is the layout pass. Textual (8.2) lays out every displayed widget of the screen on it, not only
the ones on screen, which is why the chat freezes far answers (``display: none``) and prunes old blocks.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from importlib.metadata import version
from typing import Any

from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static, TextArea

SIZE = (140, 45)
COUNTS = (10, 100, 500, 2000)
UPDATES = 40


class Reproduction(App[None]):
    def __init__(self, count: int) -> None:
        super().__init__()
        self.count = count

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("", id="tail")  # on screen: an update off screen paints nothing
            for n in range(self.count):
                yield Static(f"block {n}: a line of text as a chat block would hold")
        yield TextArea()


async def measure(count: int) -> dict[str, float]:
    app = Reproduction(count)
    painted: list[float] = []
    async with app.run_test(size=SIZE) as pilot:
        original = app._display

        def display(screen: Any, renderable: Any) -> None:
            original(screen, renderable)
            if renderable is not None:
                if hasattr(renderable, "render_segments"):
                    renderable.render_segments(app.console)
                painted.append(time.perf_counter())

        app._display = display  # type: ignore[method-assign]
        await pilot.pause()
        tail = app.query_one("#tail", Static)
        results: dict[str, float] = {}
        for layout in (True, False):
            times: list[float] = []
            for n in range(UPDATES):
                before = len(painted)
                start = time.perf_counter()
                tail.update(f"the answer so far, token {n} " + "x" * (n % 50), layout=layout)
                deadline = start + 5
                while len(painted) == before:
                    if time.perf_counter() > deadline:
                        raise TimeoutError("no frame painted the update")
                    await asyncio.sleep(0.0005)
                times.append(painted[-1] - start)
                await asyncio.sleep(0.02)
            results["layout" if layout else "repaint"] = statistics.median(times) * 1000
    return results


def main() -> None:
    print(f"Textual {version('textual')}, {SIZE[0]}x{SIZE[1]}, median of {UPDATES} updates (ms)\n")
    print(f"{'widgets displayed':>18} {'layout=True':>12} {'layout=False':>13}")
    for count in COUNTS:
        result = asyncio.run(measure(count))
        print(f"{count:>18} {result['layout']:>12.1f} {result['repaint']:>13.1f}")


if __name__ == "__main__":
    main()
