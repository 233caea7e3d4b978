"""ToolHub: starts the configured MCP servers, offers their tools to the model, runs a turn's calls with consent."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from types import TracebackType
from typing import Any, Self

from assistant.core.config import McpSettings
from assistant.core.tools import Status, ToolCall, ToolResult, ToolSpec, find_tool
from assistant.tools.consent import ConsentPolicy
from assistant.tools.runner import Observer, run_calls
from assistant.tools.values import ServerStatus, assign_wire_names, cap_text


class ToolHub:
    """Use as `async with ToolHub(settings) as hub:`; the `mcp` SDK is imported only when a server is configured."""

    def __init__(self, settings: McpSettings) -> None:
        self.settings = settings
        self._connections: dict[str, Any] = {}  # name -> Connection
        self._statuses: tuple[ServerStatus, ...] = ()
        self._tools: tuple[ToolSpec, ...] = ()
        self._started = False

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()

    @property
    def statuses(self) -> tuple[ServerStatus, ...]:
        """Every configured server, in config order: started with its tools, or the one-line reason it did not."""
        return self._statuses

    @property
    def tools(self) -> tuple[ToolSpec, ...]:
        """The tools of every started server, with the names the model sees (pass these to the provider format)."""
        return self._tools

    def find(self, name: str) -> ToolSpec | None:
        return find_tool(self._tools, name)

    async def start(self) -> tuple[ServerStatus, ...]:
        """Start every server at once, each within `start_timeout`; one failing never stops the others."""
        if self._started or not self.settings.servers:
            return self._statuses
        self._started = True
        try:
            import mcp  # noqa: F401  # the SDK is a dependency, but an install can still lack it
        except ImportError:
            self._statuses = tuple(ServerStatus(n, s.transport, False,
                                                "the `mcp` package is missing; install it with: pip install 'mcp>=2.3,<3'")
                                   for n, s in self.settings.servers.items())
            return self._statuses
        from assistant.tools.connection import Connection, StartFailed, quiet_sdk_logs

        quiet_sdk_logs()
        for name, server in self.settings.servers.items():
            self._connections[name] = Connection(name, server)
        try:
            outcomes = await asyncio.gather(*(c.start(self.settings.start_timeout) for c in self._connections.values()),
                                            return_exceptions=True)
        except BaseException:  # cancelled while starting: `async with` will not call __aexit__, so stop them here
            await self.aclose()
            raise
        specs: list[ToolSpec] = []
        statuses: list[ServerStatus] = []
        for (name, conn), outcome in zip(self._connections.items(), outcomes, strict=True):
            transport = conn.settings.transport
            if isinstance(outcome, StartFailed):
                statuses.append(ServerStatus(name, transport, False, str(outcome)))
                continue
            if isinstance(outcome, BaseException):  # a bug of ours, still only a line for this one server
                statuses.append(ServerStatus(name, transport, False, f"failed: {type(outcome).__name__}"))
                continue
            mine = [ToolSpec(name, t.name, t.description or "", dict(t.input_schema or {"type": "object"}))
                    for t in conn.tools]
            specs.extend(mine)
            statuses.append(ServerStatus(name, transport, True))
        self._tools = assign_wire_names(specs)
        self._statuses = tuple(
            s if not s.started else ServerStatus(s.name, s.transport, True, "", tuple(t for t in self._tools if t.server == s.name))
            for s in statuses)
        return self._statuses

    async def call(self, call: ToolCall) -> ToolResult:
        """Run one call without asking anyone (consent is `run_turn`'s job): timed, capped, never raising."""
        began = time.perf_counter()
        conn = self._connections.get(call.server)
        status: Status = "error"
        if conn is None or call.problem:
            text = f"This call did not run: {call.problem or f'no server named {call.server!r}'}."
        else:
            status, text = await conn.call(call.tool, dict(call.arguments), self.settings.call_timeout)
        text, cut = cap_text(text or "(no output)", self.settings.max_output_chars)
        elapsed = (time.perf_counter() - began) * 1000
        return ToolResult(call.id, call.server, call.tool, status, text, elapsed, truncated=cut, arguments=call.arguments)

    async def run_turn(self, calls: Sequence[ToolCall], policy: ConsentPolicy,
                       observer: Observer | None = None) -> tuple[ToolResult, ...]:
        """The calls of one model turn: consent in order, allowed ones concurrently (at most `max_parallel`),
        each within `call_timeout`; one result per call, in the calls' order, ready to send back to the model."""
        return await run_calls(calls, policy, self.call, self.settings.max_parallel, observer)

    async def aclose(self) -> None:
        """Stop every server (concurrently, so a stuck one costs its own shutdown time only once)."""
        connections, self._connections = list(self._connections.values()), {}
        if connections:
            await asyncio.gather(*(c.close() for c in connections), return_exceptions=True)


async def inventory(settings: McpSettings) -> tuple[ServerStatus, ...]:
    """What `assistant tools list` shows: start every server, list its tools, stop it again."""
    async with ToolHub(settings) as hub:
        return hub.statuses
