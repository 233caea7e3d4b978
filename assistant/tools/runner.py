"""The calls of one model turn: each decided in order, the allowed ones run concurrently (bounded), results in order."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Sequence

from assistant.core.tools import Approval, ToolCall, ToolResult
from assistant.tools.consent import REFUSED_FOR_MODEL, ConsentPolicy

Execute = Callable[[ToolCall], Awaitable[ToolResult]]
# Told when a call starts running (result None) and when it has a result (refused and failed calls included).
Observer = Callable[[ToolCall, "ToolResult | None"], None]


def _not_run(call: ToolCall, text: str, note: str, refused: bool = False) -> ToolResult:
    return ToolResult(call.id, call.server, call.tool or call.wire_name, "refused" if refused else "error", text, 0.0,
                      "refused" if refused else "", note=note, arguments=call.arguments)


async def run_calls(calls: Sequence[ToolCall], policy: ConsentPolicy, execute: Execute, max_parallel: int,
                    observer: Observer | None = None) -> tuple[ToolResult, ...]:
    """Ask about each call in the model's order and start it as soon as it is allowed, so one dialog open does not
    hold up calls already approved; at most `max_parallel` run at once. Cancelling this cancels every running call."""
    gate = asyncio.Semaphore(max(1, max_parallel))
    slots: list[ToolResult | asyncio.Task[ToolResult]] = []

    def tell(call: ToolCall, result: ToolResult | None) -> None:
        if observer is not None:
            observer(call, result)

    async def one(call: ToolCall, approved_by: Approval) -> ToolResult:
        async with gate:
            tell(call, None)
            result = dataclasses.replace(await execute(call), approved_by=approved_by)
        tell(call, result)
        return result

    try:
        for call in calls:
            if call.problem or not call.server:
                problem = call.problem or f"no server offers the tool '{call.wire_name}'"
                done = _not_run(call, f"This call did not run: {problem}.", f"{call.qualified} did not run: {problem}")
            else:
                decision = await policy.decide(call)
                if decision.allowed:
                    slots.append(asyncio.create_task(one(call, decision.approved_by), name=f"tool-{call.qualified}"))
                    continue
                done = _not_run(call, REFUSED_FOR_MODEL, decision.reason, refused=True)
            slots.append(done)
            tell(call, done)
        return tuple([s if isinstance(s, ToolResult) else await s for s in slots])
    finally:
        pending = [s for s in slots if isinstance(s, asyncio.Task) and not s.done()]
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
