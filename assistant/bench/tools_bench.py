"""Tool-call figures: ToolHub's overhead per call over the bare MCP SDK, and the speed-up of a turn's calls side by side.

`run(quick)` starts two copies of a tiny MCP server (this file run with --serve): one behind a bare SDK session, one
behind ToolHub, and alternates the same `add` call between them so both see the same machine load.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

_SERVER = [sys.executable, str(Path(__file__).resolve()), "--serve"]


def _serve() -> None:
    """The bench's MCP server: `add` (the call measured) and `sleep` (the parallel turn)."""
    import anyio
    from mcp.server.mcpserver import MCPServer

    server = MCPServer("bench")

    @server.tool(description="Add two numbers.")
    def add(a: float, b: float) -> float:
        return a + b

    @server.tool(description="Wait, then answer.")
    async def sleep(seconds: float) -> str:
        await anyio.sleep(seconds)
        return "done"

    server.run("stdio")


async def _measure(calls: int, sleepers: int, nap: float) -> dict[str, float]:
    from mcp import ClientSession, StdioServerParameters, stdio_client

    from assistant.core.config import settings_from_mapping
    from assistant.core.tools import ToolCall
    from assistant.tools import ConsentPolicy, ToolHub

    settings = settings_from_mapping({"mcp": {"max_parallel": sleepers, "servers": {
        "bench": {"command": _SERVER[0], "args": _SERVER[1:], "trusted_tools": ["*"]}}}}).mcp
    policy = ConsentPolicy.from_settings(settings)
    params = StdioServerParameters(command=_SERVER[0], args=_SERVER[1:])
    with open(os.devnull, "w") as quiet:  # opened once, before anything is timed
        async with ToolHub(settings) as hub, stdio_client(params, errlog=quiet) as (read, write), \
                ClientSession(read, write) as session:
            if not hub.statuses[0].started:
                raise RuntimeError(f"the bench MCP server did not start: {hub.statuses[0].reason}")
            await session.initialize()
            await session.list_tools()
            add = ToolCall("bench_add", "bench", "add", {"a": 2, "b": 3}, wire_name="add")
            raw_ms: list[float] = []
            hub_ms: list[float] = []
            for i in range(calls + 5):  # the first few warm both paths up and are not counted
                began = time.perf_counter()
                result = await session.call_tool("add", {"a": 2, "b": 3})
                raw = (time.perf_counter() - began) * 1000
                began = time.perf_counter()
                (through,) = await hub.run_turn([add], policy)
                via_hub = (time.perf_counter() - began) * 1000
                if result.is_error or not through.ok:
                    raise RuntimeError(f"the bench call failed: {through.text}")
                if i >= 5:
                    raw_ms.append(raw)
                    hub_ms.append(via_hub)
            naps = [ToolCall(f"nap_{i}", "bench", "sleep", {"seconds": nap}, wire_name="sleep") for i in range(sleepers)]
            began = time.perf_counter()
            for one in naps:
                await hub.run_turn([one], policy)
            sequential = (time.perf_counter() - began) * 1000
            began = time.perf_counter()
            await hub.run_turn(naps, policy)
            parallel = (time.perf_counter() - began) * 1000
    raw_p50, hub_p50 = statistics.median(raw_ms), statistics.median(hub_ms)
    return {
        "tools_call_raw_ms": raw_p50,
        "tools_call_ms": hub_p50,
        "tools_call_overhead_ms": hub_p50 - raw_p50,
        "tools_call_ratio": hub_p50 / raw_p50,
        "tools_parallel_calls": float(sleepers),
        "tools_parallel_sequential_ms": sequential,
        "tools_parallel_ms": parallel,
        "tools_parallel_speedup": sequential / parallel,
    }


def run(quick: bool) -> dict[str, float]:
    """The figures, each a median or a ratio measured in this run (`quick`: fewer calls, two short sleeps)."""
    return asyncio.run(_measure(calls=30 if quick else 300, sleepers=2 if quick else 4, nap=0.2 if quick else 0.5))


def main(argv: list[str]) -> Any:
    if "--serve" in argv:
        return _serve()
    for key, value in run("--quick" in argv).items():
        print(f"{key:32} {value:10.3f}")
    return None


if __name__ == "__main__":
    main(sys.argv[1:])
