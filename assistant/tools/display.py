"""Tool calls, results and servers as terminal text: everything from outside goes through the sanitiser first."""

from __future__ import annotations

import json
from collections.abc import Sequence

from assistant.core.textsafe import for_terminal
from assistant.tools.values import ServerStatus, ToolCall, ToolResult

_ARGS_SHOWN = 300
_STATUS_WORD = {"ok": "ran", "refused": "refused", "error": "failed", "timeout": "timed out"}


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def call_line(call: ToolCall) -> str:
    """`server.tool {"a": 1}`: what a dialog or the CLI shows before a call runs."""
    args = json.dumps(dict(call.arguments), ensure_ascii=False, sort_keys=True)
    return for_terminal(f"{call.qualified} {_short(args, _ARGS_SHOWN)}")


def result_line(result: ToolResult) -> str:
    """One line per finished call: who allowed it, how it ended, how long it took, the first line of its output."""
    first = next((line for line in result.text.splitlines() if line.strip()), "")
    who = f", {result.approved_by}" if result.approved_by and result.approved_by != "refused" else ""
    took = f" in {result.elapsed_ms:.0f} ms" if result.status != "refused" else ""
    return for_terminal(f"{result.qualified} {_STATUS_WORD[result.status]}{took}{who}: {_short(first, 120)}")


def result_text(result: ToolResult) -> str:
    """The whole output (already capped), safe for a terminal: escape sequences shown, never obeyed."""
    return for_terminal(result.text)


def summary_line(results: Sequence[ToolResult], wall_ms: float) -> str:
    """What the answer says about its tools: how many calls ran, how long they took (side by side, so the wall time
    is less than the sum), and how many were refused."""
    ran = [r for r in results if r.status != "refused" and r.elapsed_ms > 0]
    refused = sum(1 for r in results if r.status == "refused")
    total = sum(r.elapsed_ms for r in ran)
    extra = f", {refused} refused" if refused else ""
    return (f"{len(ran)} tool call{'s' if len(ran) != 1 else ''} ran in {wall_ms / 1000:.2f}s "
            f"({total / 1000:.2f}s if one after another){extra}")


def inventory_lines(statuses: Sequence[ServerStatus]) -> list[str]:
    """`assistant tools list`: each server, started or why not, then its tools with their descriptions."""
    if not statuses:
        return ["No MCP servers are configured; add one as [mcp.servers.NAME] in config.toml."]
    lines: list[str] = []
    for status in statuses:
        if not status.started:
            lines.append(for_terminal(f"{status.name} ({status.transport}): not started: {status.reason}"))
            continue
        count = len(status.tools)
        lines.append(for_terminal(f"{status.name} ({status.transport}): started, {count} tool{'s' if count != 1 else ''}"))
        for tool in status.tools:
            described = " ".join(tool.description.split())
            lines.append(for_terminal(f"  {tool.name}" + (f" - {_short(described, 160)}" if described else "")))
    return lines
