"""Tool calls, results and servers as terminal text: everything from outside goes through the sanitiser first."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, cast

from assistant.core.records import StoredToolCall
from assistant.core.textsafe import for_terminal
from assistant.core.tools import Approval, Status, ToolCall, ToolResult, is_trusted
from assistant.tools.values import ServerStatus

_ARGS_SHOWN = 300
_STATUS_WORD = {"ok": "ran", "refused": "refused", "error": "failed", "timeout": "timed out"}
_APPROVALS = ("trusted", "--allow-tool", "user once", "user always", "refused")


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _arguments(arguments: Mapping[str, Any], limit: int = _ARGS_SHOWN) -> str:
    return _short(json.dumps(dict(arguments), ensure_ascii=False, sort_keys=True), limit)


def call_line(call: ToolCall) -> str:
    """`server.tool {"a": 1}`: what a dialog or the CLI shows before a call runs."""
    return for_terminal(f"{call.qualified} {_arguments(call.arguments)}")


def result_head(result: ToolResult) -> str:
    """`server.tool ran in 12 ms (trusted) · {"a": 1}`: a call and how it ended (arguments last, so a narrow
    line loses them first), without its output."""
    who = f" ({result.approved_by})" if result.approved_by and result.approved_by != "refused" else ""
    took = f" in {result.elapsed_ms:.0f} ms" if result.ran else ""
    arguments = _arguments(result.arguments, 120)
    return for_terminal(f"{result.qualified} {_STATUS_WORD[result.status]}{took}{who} · {arguments}")


def result_line(result: ToolResult) -> str:
    """One line per finished call: the call, how it ended, who allowed it, and the first line of its output."""
    first = next((line for line in result.text.splitlines() if line.strip()), "")
    return result_head(result) + for_terminal(f" → {_short(first.strip(), 120)}")


def running_head(call: ToolCall) -> str:
    """`server.tool running… · {"a": 1}`: a call that has not finished yet."""
    return for_terminal(f"{call.qualified} running… · {_arguments(call.arguments, 120)}")


def from_stored(call: StoredToolCall) -> ToolResult:
    """A call history kept, as the result it was when it ran (for showing it again)."""
    try:
        arguments = json.loads(call.arguments)
    except ValueError:
        arguments = {}
    # Stored text, checked against the words the types allow (an older or damaged row shows as an error).
    status = cast(Status, call.status if call.status in _STATUS_WORD else "error")
    approved = cast(Approval, call.approved_by if call.approved_by in _APPROVALS else "")
    return ToolResult("", call.server, call.tool, status, call.result, call.elapsed_ms, approved,
                      call.truncated, arguments=arguments if isinstance(arguments, dict) else {})


def result_text(result: ToolResult) -> str:
    """The whole output (already capped), safe for a terminal: escape sequences shown, never obeyed."""
    return for_terminal(result.text)


def summary_line(results: Sequence[ToolResult], wall_ms: float) -> str:
    """What the answer says about its tools: how many calls ran and how long they took (side by side, so the wall
    time is less than the sum), how many were refused, and how many could not be made at all."""
    ran = [r for r in results if r.ran]
    refused = sum(1 for r in results if r.status == "refused")
    unmade = len(results) - len(ran) - refused
    parts = []
    if ran:
        total = sum(r.elapsed_ms for r in ran)
        serial = f" ({total / 1000:.2f}s if one after another)" if len(ran) > 1 else ""
        parts.append(f"{len(ran)} tool call{'s' if len(ran) != 1 else ''} ran in {wall_ms / 1000:.2f}s{serial}")
    if refused:
        parts.append(f"{refused} tool call{'s' if refused != 1 else ''} refused" if not ran else f"{refused} refused")
    if unmade:
        parts.append(f"{unmade} could not run")
    return ", ".join(parts)


def inventory_lines(statuses: Sequence[ServerStatus], trusted: Mapping[str, Sequence[str]] | None = None) -> list[str]:
    """`assistant tools list`: each server, started or why not, then its tools with their descriptions (and which
    run without asking: `trusted` is each server's trusted_tools)."""
    if not statuses:
        return ["No MCP servers are configured; add one as [mcp.servers.NAME] in config.toml."]
    lines: list[str] = []
    for status in statuses:
        if not status.started:
            lines.append(for_terminal(f"{status.name} ({status.transport}): not started: {status.reason}"))
            continue
        count = len(status.tools)
        lines.append(for_terminal(f"{status.name} ({status.transport}): started, {count} tool{'s' if count != 1 else ''}"))
        mine = (trusted or {}).get(status.name, ())
        for tool in status.tools:
            described = " ".join(tool.description.split())
            mark = " [trusted]" if is_trusted(mine, tool.name) else ""
            lines.append(for_terminal(f"  {tool.name}{mark}" + (f" - {_short(described, 160)}" if described else "")))
    return lines
