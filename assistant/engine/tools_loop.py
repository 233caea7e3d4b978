"""Tool calls in an answer: the session's MCP servers, and the loop of model turns that ask for calls and read results.

A model turn streams as usual; when it ends by asking for calls, each is decided (trusted, --allow-tool, or the
user through a ToolCallRequested event), the allowed ones run side by side, and the results go back to the same
model in its own format, until it answers in text or `mcp.max_turns` rounds have run.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from assistant.core.config import McpSettings
from assistant.core.events import (
    Choice,
    ConsentReply,
    Event,
    Notice,
    TextDelta,
    ToolCallFinished,
    ToolCallRequested,
    ToolCallStarted,
    Waiting,
)
from assistant.core.tools import ToolCall, ToolExchange, ToolResult, ToolSpec
from assistant.core.types import ProviderRequest, ToolUse, Usage
from assistant.engine.accounting import estimate_tokens
from assistant.engine.recorder import TurnRecorder
from assistant.engine.run import RunState

PARAGRAPH = "\n\n"

if TYPE_CHECKING:
    from assistant.providers.base import Provider
    from assistant.tools import Approver, ConsentPolicy, ToolHub
    from assistant.tools.values import ServerStatus


@dataclass(frozen=True)
class Round:
    """One round's results (one per call, in the calls' order) and how long at least one of them was running."""

    results: tuple[ToolResult, ...]
    busy_ms: float


class SessionTools:
    """The MCP servers of one process (a TUI session or one `ask`): started once, on first use, and what the user
    allowed "always" in this session."""

    def __init__(self, settings: McpSettings) -> None:
        self.settings = settings
        self.always: set[str] = set()
        self._hub: ToolHub | None = None
        self._lock = asyncio.Lock()
        self._reported = False

    @property
    def configured(self) -> bool:
        return self.settings.enabled

    @property
    def started(self) -> bool:
        return self._hub is not None

    async def start(self) -> tuple[ServerStatus, ...]:
        """Start every configured server (once; later callers wait for the first start)."""
        from assistant.tools import ToolHub

        async with self._lock:
            if self._hub is None:
                hub = ToolHub(self.settings)
                await hub.start()
                self._hub = hub
            return self._hub.statuses

    def failures(self) -> list[str]:
        """One line per server that did not start, said once per session."""
        if self._hub is None or self._reported:
            return []
        self._reported = True
        return [f"MCP server '{s.name}' did not start: {s.reason}" for s in self._hub.statuses if not s.started]

    async def offered(self, use: ToolUse) -> tuple[ToolSpec, ...]:
        """The tools this request offers: every started server's, unless the request turned tools off."""
        if not use.enabled or not self.configured:
            return ()
        await self.start()
        assert self._hub is not None
        return self._hub.tools

    def policy(self, use: ToolUse, approver: Approver | None) -> ConsentPolicy:
        from assistant.tools import ConsentPolicy

        return ConsentPolicy.from_settings(self.settings, use.allowed, approver, self.always)

    async def run_round(self, calls: tuple[ToolCall, ...], use: ToolUse) -> AsyncGenerator[Event | Round, None]:
        """Events while one round of calls is decided and run, then the Round (results one per call, in order)."""
        assert self._hub is not None
        queue: asyncio.Queue[Event] = asyncio.Queue()
        replies: list[ConsentReply] = []
        # When each call ran (taken as it happens), so the round's tool time leaves out waiting for the user.
        started: dict[str, float] = {}
        spans: list[tuple[float, float]] = []

        def observe(call: ToolCall, result: ToolResult | None) -> None:
            if result is None:
                started[call.id] = time.perf_counter()
            elif call.id in started:
                spans.append((started.pop(call.id), time.perf_counter()))
            queue.put_nowait(ToolCallStarted(call) if result is None else ToolCallFinished(call, result))

        async def approver(call: ToolCall) -> Choice:
            reply = ConsentReply()
            replies.append(reply)
            queue.put_nowait(ToolCallRequested(call, reply))
            return await reply.wait()

        policy = self.policy(use, approver if use.ask else None)
        task = asyncio.create_task(self._hub.run_turn(calls, policy, observe), name="tool-round")
        getter: asyncio.Future[Event] | None = None
        try:
            while True:
                getter = getter or asyncio.ensure_future(queue.get())
                waiting: set[asyncio.Future[Any]] = {getter, task}
                done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                if getter in done:
                    event, getter = getter.result(), None
                    yield event
                elif task.done():
                    break
            while not queue.empty():
                yield queue.get_nowait()
            yield Round(task.result(), _covered(spans))
        finally:
            for reply in replies:
                reply.cancel()  # a dialog still open when the answer stops: its answer no longer matters
            if getter is not None:
                getter.cancel()
            if not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

    async def aclose(self) -> None:
        hub, self._hub = self._hub, None
        if hub is not None:
            await hub.aclose()


async def model_turns(tools: SessionTools, use: ToolUse, provider: Provider, request: ProviderRequest,
                      state: RunState, recorder: TurnRecorder, stream: Callable[..., AsyncGenerator[Event, None]],
                      deadline: float | None, next_deadline: Callable[[], float | None]) -> AsyncGenerator[Event, None]:
    """Model turns of one attempt until the model answers in text (or the round limit). `stream(provider, request,
    state, continuing=..., deadline=...)` is stream_attempt with the attempt's other arguments bound; `deadline` is
    the first turn's, `next_deadline()` gives each later turn a first-token budget of its own."""
    exchanges: list[ToolExchange] = []
    usages: list[Usage] = []
    rounds = 0
    while True:
        mark = len(state.parts)
        turn = replace(request, exchanges=tuple(exchanges))
        if exchanges:
            deadline = next_deadline()
        async with aclosing(stream(provider, turn, state, continuing=bool(exchanges), deadline=deadline)) as run:
            async for event in run:
                yield event
        if state.error is not None:
            return
        usages.append(state.usage or Usage(estimate_tokens(_chars(turn)),
                                           estimate_tokens(sum(map(len, state.parts[mark:]))), estimated=True))
        state.usage = _total(usages)
        if not state.calls:
            return
        calls, state.calls = state.calls, ()
        if rounds >= tools.settings.max_turns:
            yield Notice(f"The model asked for more tool calls after {rounds} rounds (mcp.max_turns); they did not "
                         "run, and the answer ends here.", "warning")
            return
        rounds += 1
        await recorder.ensure_answer(state.ref)  # the calls are linked to the answer's row before any runs
        results: tuple[ToolResult, ...] = ()
        order = {call.id: n for n, call in enumerate(calls)}
        yield Waiting("running tools" if len(calls) > 1 else f"running {calls[0].qualified}")
        async with aclosing(tools.run_round(calls, use)) as running:
            async for item in running:
                if isinstance(item, Round):
                    results = item.results
                    state.tools_ms += item.busy_ms
                    continue
                if isinstance(item, ToolCallFinished):
                    state.tool_results.append(item.result)
                    recorder.tool_result(rounds, order.get(item.call.id, 0), item.result)
                yield item
        exchanges.append(ToolExchange("".join(state.parts[mark:]), calls, results))
        if state.parts and not state.parts[-1].endswith("\n"):  # what the model says next starts a paragraph
            state.parts.append(PARAGRAPH)
            recorder.chunk(PARAGRAPH)
            yield TextDelta(PARAGRAPH)


def _covered(spans: list[tuple[float, float]]) -> float:
    """Milliseconds during which at least one call was running (calls side by side count once)."""
    total, reach = 0.0, 0.0
    for start, end in sorted(spans):
        if end > reach:
            total += end - max(start, reach)
            reach = end
    return total * 1000


def _chars(request: ProviderRequest) -> int:
    return (sum(len(m.content) for m in request.messages)
            + sum(len(r.text) + len(e.text) for e in request.exchanges for r in e.results))


def _total(usages: list[Usage]) -> Usage:
    return Usage(sum(u.input_tokens for u in usages), sum(u.output_tokens for u in usages),
                 any(u.estimated for u in usages))

