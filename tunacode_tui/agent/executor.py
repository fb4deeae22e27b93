"""The executor: consecutive read-only calls run concurrently in a batch, writes run alone, in order.

Calls are submitted as soon as the provider stream says their arguments are complete, so read-only
tools start while the model is still writing the rest of its response. The first call that is not
read-only is a barrier: it and everything after it wait for the stream to end and for every earlier call
to finish, then run through the same batch planner (``plan_batches``). Results are returned in the
order the model made the calls, whatever order they finished in.

How a call is spawned is the only thing the TUI and headless mode do differently (a Textual worker in a
per-batch group, or an asyncio task): see ``Spawner``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from tunacode_tui.agent.validation import validate_arguments
from tunacode_tui.core.events import (
    AgentEvent,
    BatchFinished,
    BatchGrew,
    BatchStarted,
    PermissionDecision,
    ToolCallFinished,
    ToolCallStarted,
)
from tunacode_tui.core.messages import ToolCallPart, ToolResultPart, clean_text
from tunacode_tui.tools.base import Tool, ToolCancelled, ToolContext, ToolError

log = logging.getLogger("tunacode.executor")

CANCELLED_RESULT = "Cancelled by the user before this tool finished."


class SpawnedCall(Protocol):
    def cancel(self) -> None: ...

    async def wait(self) -> None:
        """Return once the work has ended, however it ended. Never raises (cancellation included)."""


class Spawner(Protocol):
    def spawn(self, work: Coroutine[Any, Any, None], *, batch: int, description: str) -> SpawnedCall: ...


class _TaskCall:
    def __init__(self, task: asyncio.Task[None]) -> None:
        self._task = task

    def cancel(self) -> None:
        self._task.cancel()

    async def wait(self) -> None:
        await asyncio.wait([self._task])


class AsyncioSpawner:
    """Headless: each call is a plain asyncio task."""

    def spawn(self, work: Coroutine[Any, Any, None], *, batch: int, description: str) -> SpawnedCall:
        return _TaskCall(asyncio.ensure_future(work))


PermissionGate = Callable[[ToolCallPart, Tool], Awaitable[PermissionDecision]]
CallStatus = Literal["done", "failed", "cancelled", "refused"]
# How one call ended: ok, the result for the model, the result for the UI (None: the same), the status.
Outcome = tuple[bool, str, str | None, CallStatus]


def plan_batches(calls: Sequence[ToolCallPart], is_read_only: Callable[[ToolCallPart], bool]) -> list[list[int]]:
    """The one scheduling rule: runs of consecutive read-only calls form a batch; any other call is a
    batch of its own. Returns indexes into ``calls``, in order."""
    batches: list[list[int]] = []
    for index, call in enumerate(calls):
        if is_read_only(call) and batches and batches[-1] and is_read_only(calls[batches[-1][0]]):
            batches[-1].append(index)
        else:
            batches.append([index])
    return batches


@dataclass(slots=True)
class _Batch:
    number: int
    indexes: list[int] = field(default_factory=list)
    parallel: bool = False
    closed: bool = False
    announced: bool = False


@dataclass(slots=True)
class _Slot:
    call: ToolCallPart
    batch: int = 0
    done: asyncio.Future[ToolCallFinished] | None = None
    handle: SpawnedCall | None = None


def _ignore(event: AgentEvent) -> None:
    """The default listener: tests and benchmarks that do not watch the executor's events."""


@dataclass(frozen=True, slots=True)
class ExecutionPolicy:
    """Everything the executor asks of whoever runs it, in one place.

    The executor knows how to schedule calls; *whether* a call may run (``guard``, ``permission``), how it
    is spawned (``spawner``: a Textual worker or an asyncio task), who hears about it (``emit``), how batches
    are numbered across responses (``next_batch_number``) and what time it is (``clock``) belong to the caller.
    """

    permission: PermissionGate
    next_batch_number: Callable[[], int]
    max_parallel: int
    spawner: Spawner = field(default_factory=AsyncioSpawner)
    emit: Callable[[AgentEvent], None] = _ignore
    # Without early start every call waits for the end of the stream (kept for benchmarks).
    early_start: bool = True
    # A refusal (used as the call's result) for a call that must not run, checked before it runs.
    guard: Callable[[ToolCallPart], str | None] | None = None
    clock: Callable[[], float] = time.monotonic


class ResponseExecutor:
    """Runs the tool calls of one model response. Create one per response."""

    def __init__(self, tools: dict[str, Tool], ctx: ToolContext, policy: ExecutionPolicy) -> None:
        self._tools = tools
        self._ctx = ctx
        self._spawner = policy.spawner
        self._emit = policy.emit
        self._max_parallel = max(1, policy.max_parallel)
        self._permission = policy.permission
        self._next_batch_number = policy.next_batch_number
        self._clock = policy.clock
        self._guard = policy.guard
        self._semaphore = asyncio.Semaphore(self._max_parallel)
        self._slots: list[_Slot] = []
        self._early: _Batch | None = None
        self._barrier_seen = not policy.early_start
        self._batches: list[BatchFinished] = []
        self._cancelled = False
        self._open: dict[int, _Batch] = {}

    # -- classification ---------------------------------------------------------------------------
    def is_read_only(self, call: ToolCallPart) -> bool:
        """Unknown tools and malformed calls count as read-only: they only produce an error result."""
        tool = self._tools.get(call.name)
        return tool is None or call.parse_error is not None or tool.read_only

    # -- streaming submission ---------------------------------------------------------------------
    def submit(self, call: ToolCallPart) -> None:
        """A call's arguments are complete. Read-only calls before any barrier start now."""
        slot = _Slot(call)
        self._slots.append(slot)
        index = len(self._slots) - 1
        if self._barrier_seen or not self.is_read_only(call) or self._cancelled:
            self._barrier_seen = True
            if self._early is not None:
                self._early.closed = True
            return
        if self._early is None:
            self._early = _Batch(self._next_batch_number(), parallel=self._max_parallel > 1)
        batch = self._early
        batch.indexes.append(index)
        self._start(slot, batch)

    def _start(self, slot: _Slot, batch: _Batch) -> None:
        slot.batch = batch.number
        loop = asyncio.get_running_loop()
        slot.done = loop.create_future()
        if not batch.announced:
            batch.announced = True
            self._open[batch.number] = batch
            self._emit(BatchStarted(batch.number, len(batch.indexes), batch.parallel, self._clock()))
        elif not batch.closed:
            self._emit(BatchGrew(batch.number, len(batch.indexes), self._clock()))
        slot.handle = self._spawner.spawn(
            self._run_call(slot), batch=batch.number, description=f"{slot.call.name} {slot.call.id}"
        )

    # -- completion -------------------------------------------------------------------------------
    async def finish(self) -> list[ToolResultPart]:
        """The stream has ended: wait for the early batch, run the rest in planned batches, and return
        every result in call order."""
        try:
            if self._early is not None:
                self._early.closed = True
                await self._await_batch(self._early)
            start = sum(len(b.indexes) for b in ([self._early] if self._early else []))
            rest = self._slots[start:]
            for plan in plan_batches([s.call for s in rest], self.is_read_only):
                indexes = [start + i for i in plan]
                parallel = len(indexes) > 1 and self._max_parallel > 1
                batch = _Batch(self._next_batch_number(), indexes, parallel=parallel, closed=True)
                for i in indexes:
                    self._start(self._slots[i], batch)
                await self._await_batch(batch)
        except asyncio.CancelledError:
            await self.cancel()
            raise
        return self.results()

    async def _await_batch(self, batch: _Batch) -> None:
        slots = [self._slots[i] for i in batch.indexes]
        for slot in slots:
            assert slot.handle is not None and slot.done is not None
            await slot.handle.wait()
            if not slot.done.done():  # the spawner dropped it before it ran (e.g. worker cancelled early)
                now = self._clock()
                slot.done.set_result(self._finished(slot, False, CANCELLED_RESULT, None, now, now, "cancelled"))
        self._close_batch(batch)

    def _close_batch(self, batch: _Batch) -> None:
        """Report a batch whose calls all have results (finished, failed or cancelled)."""
        self._open.pop(batch.number, None)
        slots = [self._slots[i] for i in batch.indexes]
        finished = [s.done.result() for s in slots if s.done is not None and s.done.done()]
        if not finished:
            return
        started = min(f.started for f in finished)
        ended = max(f.ended for f in finished)
        statuses = {f.status for f in finished}
        status: Literal["done", "failed", "cancelled"] = (
            "cancelled" if "cancelled" in statuses else ("failed" if not all(f.ok for f in finished) else "done")
        )
        batch.parallel = len(slots) > 1 and self._max_parallel > 1
        event = BatchFinished(
            batch.number,
            len(slots),
            batch.parallel,
            started,
            ended,
            sum(f.duration for f in finished),
            status,
            active=union_length([(f.started, f.ended) for f in finished]),
            cap=self._max_parallel,
        )
        self._batches.append(event)
        log.debug("%s batch %d %s in %.3fs (%d tools)", "Parallel" if batch.parallel else "Sequential",
                  batch.number, "cancelled" if status == "cancelled" else "completed", event.wall, len(slots))
        self._emit(event)

    async def cancel(self) -> None:
        """Stop everything that runs; calls that never ran get a "cancelled" result."""
        self._cancelled = True
        for slot in self._slots:
            if slot.handle is not None:
                slot.handle.cancel()
        for slot in self._slots:
            if slot.handle is not None:
                await slot.handle.wait()
            if slot.done is None:
                slot.done = asyncio.get_running_loop().create_future()
            if not slot.done.done():
                now = self._clock()
                slot.done.set_result(self._finished(slot, False, CANCELLED_RESULT, None, now, now, "cancelled"))
        for batch in list(self._open.values()):  # every announced batch gets its end, "cancelled" included
            self._close_batch(batch)

    def results(self) -> list[ToolResultPart]:
        out = []
        for slot in self._slots:
            if slot.done is not None and slot.done.done():
                f = slot.done.result()
                out.append(ToolResultPart(slot.call.id, slot.call.name, f.result, is_error=not f.ok))
            else:
                out.append(ToolResultPart(slot.call.id, slot.call.name, CANCELLED_RESULT, is_error=True))
        return out

    @property
    def submitted_calls(self) -> list[ToolCallPart]:
        """Every call whose arguments were complete, in the order the model sent them."""
        return [slot.call for slot in self._slots]

    @property
    def submitted_ids(self) -> set[str]:
        return {slot.call.id for slot in self._slots}

    @property
    def batches(self) -> list[BatchFinished]:
        return list(self._batches)

    @property
    def finished_calls(self) -> list[ToolCallFinished]:
        return [s.done.result() for s in self._slots if s.done is not None and s.done.done()]

    # -- one call ---------------------------------------------------------------------------------
    def _finished(
        self,
        slot: _Slot,
        ok: bool,
        result: str,
        display: str | None,
        started: float,
        ended: float,
        status: CallStatus,
    ) -> ToolCallFinished:
        return ToolCallFinished(
            slot.batch,
            slot.call.id,
            slot.call.name,
            slot.call.arguments,
            ok,
            clean_text(result),  # tool output enters the history here: file names, bytes, anything
            None if display is None else clean_text(display),
            started,
            ended,
            status,
        )

    async def _run_call(self, slot: _Slot) -> None:
        call = slot.call
        assert slot.done is not None
        started = self._clock()
        display: str | None
        status: CallStatus
        ok, result, display, status = False, CANCELLED_RESULT, None, "cancelled"
        acquired = announced = False
        try:
            # Checks and the permission prompt come first: they are not tool time and need no slot.
            refusal = await self._precheck(call)
            if refusal is None:
                await self._semaphore.acquire()
                acquired = True
            started = self._clock()
            self._emit(ToolCallStarted(slot.batch, call.id, call.name, call.arguments, started))
            announced = True
            ok, result, display, status = refusal or await self._execute(call)
        except asyncio.CancelledError:
            ok, result, display, status = False, CANCELLED_RESULT, None, "cancelled"
            raise
        except Exception as exc:  # a bug here must not kill the loop or the call's siblings
            log.exception("tool call %s failed", call.name)
            ok, result, display, status = (
                False,
                f"Error: {call.name} failed: {type(exc).__name__}: {exc}",
                None,
                "failed",
            )
        finally:
            ended = self._clock()
            if acquired:
                self._semaphore.release()
            finished = self._finished(slot, ok, result, display, started, ended, status)
            log.debug("Tool execution completed in %.3fs (%s, %s)", finished.duration, call.name, status)
            if not slot.done.done():
                slot.done.set_result(finished)
            if announced:
                self._emit(finished)

    async def _precheck(self, call: ToolCallPart) -> Outcome | None:
        """Why this call must not run (as its result), or None to run it."""
        if call.parse_error:
            unreadable = f"Error: the tool call could not be read: {call.parse_error}. Send valid JSON."
            return False, unreadable, None, "failed"
        tool = self._tools.get(call.name)
        if tool is None:
            names = ", ".join(sorted(self._tools))
            return False, f"Error: there is no tool named {call.name!r}. Available tools: {names}.", None, "failed"
        problem = validate_arguments(tool.parameters, call.arguments)
        if problem:
            return False, f"Error: invalid arguments for {call.name}: {problem}", None, "failed"
        if self._guard is not None and (stopped := self._guard(call)):
            return False, stopped, None, "refused"
        if not tool.read_only:
            decision = await self._permission(call, tool)
            if not decision.allow:
                why = f" The user said: {decision.reason}" if decision.reason else ""
                return False, f"The user refused to run {call.name}.{why}", None, "refused"
        return None

    async def _execute(self, call: ToolCallPart) -> Outcome:
        tool = self._tools[call.name]
        checkpoints = self._ctx.services.get("checkpoints")
        touched = None
        try:
            if checkpoints is not None and not tool.read_only:
                saving = asyncio.ensure_future(
                    asyncio.to_thread(checkpoints.before_change, call.name, call.arguments, self._ctx)
                )
                try:
                    touched = await asyncio.shield(saving)
                except asyncio.CancelledError:
                    # The save goes on in its thread: wait for it, so the ``finally`` below closes it with the
                    # file unchanged; left open, /undo would take the untouched file for one changed since.
                    touched = await _outcome(saving)
                    raise
            output = await tool.run(call.arguments, self._ctx)
        except ToolCancelled as exc:  # stopped part-way: the tool says what had already happened
            return False, str(exc), None, "cancelled"
        except ToolError as exc:
            return False, f"Error: {exc}", None, "failed"
        except OSError as exc:  # the file system said no: the model can act on that
            return False, f"Error: {call.name}: {exc.strerror or exc}.", None, "failed"
        except Exception as exc:  # a bug in a tool must not kill the loop or its siblings
            log.exception("tool %s crashed", call.name)
            return False, f"Error: {call.name} failed unexpectedly: {type(exc).__name__}: {exc}", None, "failed"
        finally:
            if touched is not None and checkpoints is not None:
                # Also after a cancel: a write may have landed while we were told to stop.
                checkpoints.after_change(touched)
        return True, output.content, output.display, "done"


async def _outcome(future: asyncio.Future[Any]) -> Any:
    """``future``'s result once it is done, waiting through further cancels (None if it failed)."""
    while not future.done():
        try:
            await asyncio.wait([future])
        except asyncio.CancelledError:
            continue
    return None if future.cancelled() or future.exception() is not None else future.result()


def union_length(intervals: list[tuple[float, float]]) -> float:
    """Total time covered by at least one interval."""
    total = 0.0
    current_start = current_end = None
    for start, end in sorted(intervals):
        if current_end is None or start > current_end:
            if current_end is not None and current_start is not None:
                total += current_end - current_start
            current_start, current_end = start, end
        else:
            current_end = max(current_end, end)
    if current_end is not None and current_start is not None:
        total += current_end - current_start
    return total


def call_signature(call: ToolCallPart) -> str:
    """Identity of a call for the loop guard: same tool, same arguments."""
    return call.name + json.dumps(call.arguments, sort_keys=True, default=str)
