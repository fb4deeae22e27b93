"""Tool calls as Textual workers: the executor's ``Spawner`` for the TUI.

Each call runs in a worker of its batch's group (``batch-N``), never ``exclusive`` (that would cancel
its siblings), so the app's worker manager sees, and cancels on exit, every running tool. The spawner is
bound to the app, not to a screen, so the factory can hand it to the agent when it builds it, before the
screen that shows the conversation exists.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from textual.dom import DOMNode
from textual.worker import Worker, WorkerCancelled, WorkerFailed


async def _settled(worker: Worker[None]) -> None:
    try:
        await worker.wait()
    except WorkerCancelled:
        pass
    except WorkerFailed as exc:
        # The executor catches tool errors; reaching here is a bug, but its call still gets a result.
        worker.node.app.notify(f"A tool worker failed: {exc.error!r}", severity="error")


class WorkerCall:
    """A handle on one tool worker, as the executor's ``SpawnedCall``."""

    def __init__(self, worker: Worker[None]) -> None:
        self.worker = worker
        self._settled: asyncio.Future[None] | None = None

    def cancel(self) -> None:
        self.worker.cancel()

    async def wait(self) -> None:
        """Return once the worker has ended, however it ended; never raise for the worker's sake.

        ``Worker.wait`` turns a cancellation of the *waiting* task into ``WorkerCancelled``; swallowing
        that would swallow the agent's own cancellation (Esc). So the waiting happens in a shielded task
        and a cancellation of the caller still reaches the caller.
        """
        if self._settled is None:
            self._settled = asyncio.ensure_future(_settled(self.worker))
        await asyncio.shield(self._settled)


class WorkerSpawner:
    """Runs each tool call as a worker on ``node`` (the app), grouped by batch."""

    def __init__(self, node: DOMNode) -> None:
        self._node = node

    def spawn(self, work: Coroutine[Any, Any, None], *, batch: int, description: str) -> WorkerCall:
        worker: Worker[None] = self._node.run_worker(
            work, name=description, group=f"batch-{batch}", description=description, exit_on_error=False
        )
        return WorkerCall(worker)
