"""ToolHub against a real MCP server: listing, running calls side by side, and every way a server can misbehave."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from assistant.core.tools import ToolCall, ToolSpec
from assistant.tools import ConsentPolicy, ServerStatus, ToolHub, inventory
from assistant.tools.display import (
    call_line,
    inventory_lines,
    result_line,
    result_text,
    summary_line,
)
from tests.tools.conftest import alive, settings, sleeps, stdio_server

TRUST_ALL = ConsentPolicy({"t": ["*"], "a": ["*"], "b": ["*"]})


def call(tool: str, ident: int = 1, server: str = "t", **arguments: object) -> ToolCall:
    return ToolCall(f"call_{ident}", server, tool, arguments, wire_name=tool)


async def test_lists_tools_with_descriptions(hub: ToolHub) -> None:
    (status,) = hub.statuses
    assert status.started and status.transport == "stdio"
    by_name = {t.name: t for t in status.tools}
    assert {"add", "sleep", "write_note"} <= set(by_name)
    assert by_name["add"].description == "Add two numbers and return the sum."
    assert by_name["add"].input_schema["required"] == ["a", "b"]
    assert [t.qualified for t in hub.tools] == [t.qualified for t in status.tools]
    lines = inventory_lines(hub.statuses)
    assert lines[0].startswith("t (stdio): started, ")
    assert "  add - Add two numbers and return the sum." in lines


async def test_add_returns_the_sum(hub: ToolHub) -> None:
    (result,) = await hub.run_turn([call("add", a=2, b=3)], TRUST_ALL)
    assert (result.status, float(result.text), result.approved_by) == ("ok", 5.0, "trusted")
    assert result.call_id == "call_1" and result.qualified == "t.add"


async def test_two_slow_calls_in_one_turn_overlap(hub: ToolHub, sleep_log: Path) -> None:
    """Evidence from the server itself: the second sleep started before the first one ended."""
    results = await hub.run_turn([call("sleep", 1, seconds=1), call("sleep", 2, seconds=1)], TRUST_ALL)
    assert [r.call_id for r in results] == ["call_1", "call_2"]
    assert all(r.status == "ok" for r in results)
    first, second = sorted(sleeps(sleep_log), key=lambda s: s["start"])
    assert second["start"] < first["end"]


async def test_max_parallel_bounds_the_overlap(sleep_log: Path) -> None:
    async with ToolHub(settings({"t": stdio_server(log=sleep_log)}, max_parallel=1)) as hub:
        await hub.run_turn([call("sleep", 1, seconds=0.3), call("sleep", 2, seconds=0.3)], TRUST_ALL)
    first, second = sorted(sleeps(sleep_log), key=lambda s: s["start"])
    assert second["start"] >= first["end"]


async def test_results_keep_the_order_of_the_calls(hub: ToolHub) -> None:
    results = await hub.run_turn([call("sleep", 1, seconds=0.5), call("add", 2, a=1, b=1)], TRUST_ALL)
    assert [(r.call_id, r.tool) for r in results] == [("call_1", "sleep"), ("call_2", "add")]


async def test_a_hung_tool_hits_the_timeout_and_the_server_stays_usable(sleep_log: Path, tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    async with ToolHub(settings({"t": stdio_server(log=sleep_log, pids=pids)}, call_timeout=1)) as hub:
        hung, after = await hub.run_turn([call("sleep", 1, seconds=60), call("add", 2, a=1, b=2)], TRUST_ALL)
        again = (await hub.run_turn([call("add", 3, a=2, b=2)], TRUST_ALL))[0]
    assert hung.status == "timeout"
    assert hung.text == "The tool t.sleep did not finish within 1s and was stopped."
    assert (after.status, after.text, again.status, again.text) == ("ok", "3.0", "ok", "4.0")
    assert alive(pids) == []


async def test_a_server_crashing_mid_call_gives_one_line_and_others_carry_on(capfd: pytest.CaptureFixture[str]) -> None:
    async with ToolHub(settings({"a": stdio_server(), "b": stdio_server()})) as hub:
        crashed = (await hub.run_turn([call("crash", server="a")], TRUST_ALL))[0]
        later, other = await hub.run_turn([call("add", 2, server="a", a=1, b=1), call("add", 3, server="b", a=1, b=1)],
                                          TRUST_ALL)
    assert crashed.status == "error"
    assert crashed.text == "The MCP server 'a' stopped during the call; it said: test server: crashing on purpose."
    assert later.status == "error" and later.text.startswith("The MCP server 'a' is not running (stopped")
    assert (other.status, other.text) == ("ok", "2.0")
    assert "Traceback" not in capfd.readouterr().err


async def test_servers_that_fail_to_start_each_get_one_line(capfd: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    config = settings({
        "good": stdio_server(pids=pids),
        "crashy": stdio_server("crash-on-start", pids=pids),
        "garbage": stdio_server("garbage", pids=pids),
        "missing": {"command": "/nonexistent/mcp-server"},
        "web": {"url": "http://127.0.0.1:9/mcp"},  # the discard port: nothing listens
    })
    statuses = {s.name: s for s in await inventory(config)}
    assert statuses["good"].started and statuses["good"].tools
    assert not any(statuses[name].started for name in ("crashy", "garbage", "missing", "web"))
    assert statuses["crashy"].reason == "exited before it was ready; it said: RuntimeError: ^[[31mmissing API_TOKEN^[[0m"
    assert statuses["garbage"].reason == ("printed text that is not MCP on stdout: "
                                          "'Welcome to my server! ^[]0;pwned^G This is not JSON-RPC.'")
    assert statuses["missing"].reason == "cannot start '/nonexistent/mcp-server': no such program (check `command` and PATH)"
    assert statuses["web"].reason == "cannot reach http://127.0.0.1:9/mcp (ConnectError)"
    lines = inventory_lines(tuple(statuses.values()))
    assert all("\n" not in line and "\x1b" not in line and "\x07" not in line for line in lines)
    assert "Traceback" not in capfd.readouterr().err
    assert len(pids.read_text().split()) == 3 and alive(pids) == []


async def test_a_server_that_never_answers_hits_the_start_timeout(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    (status,) = await inventory(settings({"hung": stdio_server("hang", pids=pids)}, start_timeout=1))
    assert (status.started, status.reason) == (False, "did not answer within 1s")
    assert alive(pids) == []


async def test_garbage_during_a_call_is_ignored_without_a_traceback(hub: ToolHub, capfd: pytest.CaptureFixture[str]) -> None:
    (result,) = await hub.run_turn([call("garble")], TRUST_ALL)
    assert (result.status, result.text) == ("ok", "answered after the garbage")
    assert capfd.readouterr().err == ""


async def test_tool_errors_and_unknown_tools_are_reported_to_the_model(hub: ToolHub) -> None:
    failed, unknown, bad = await hub.run_turn([
        call("fail", 1, message="boom"),
        ToolCall("call_2", "", "", {}, wire_name="launch_rockets", problem="no tool is named 'launch_rockets'"),
        ToolCall("call_3", "t", "add", {}, wire_name="add", problem="its arguments are not valid JSON"),
    ], TRUST_ALL)
    assert failed.status == "error" and failed.text == "Error executing tool fail"
    assert unknown.status == "error" and unknown.text == "This call did not run: no tool is named 'launch_rockets'."
    assert bad.status == "error" and bad.approved_by == "" and "not valid JSON" in bad.note


async def test_output_with_terminal_escapes_is_sanitised_for_display_only(hub: ToolHub) -> None:
    hostile = "done\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2J\x1b]0;owned\x07\r\x9b31m"
    (result,) = await hub.run_turn([call("echo", text=hostile)], TRUST_ALL)
    assert result.text == hostile  # the model gets what the tool said
    for shown in (result_text(result), result_line(result)):
        assert not any(c in shown for c in "\x1b\x07\r\x9b")
        assert "^[]52;c;cm0gLXJmIH4=^G" in shown


async def test_huge_output_is_capped(sleep_log: Path) -> None:
    async with ToolHub(settings({"t": stdio_server(log=sleep_log)}, max_output_chars=1000)) as hub:
        (result,) = await hub.run_turn([call("big", n=50_000)], TRUST_ALL)
    assert result.truncated and result.text.startswith("x" * 1000)
    assert result.text.endswith("[... 49000 more characters cut]")


async def test_summary_counts_calls_and_refusals(hub: ToolHub) -> None:
    results = await hub.run_turn([call("add", 1, a=1, b=1), call("write_note", 2, path="x", text="y")],
                                 ConsentPolicy({"t": ["add"]}))
    assert summary_line(results, 1500) == "1 tool call ran in 1.50s, 1 refused"
    assert summary_line(results[1:], 0) == "1 tool call refused"
    unknown = ToolCall("call_5", "", "", {}, wire_name="nope", problem="no tool is named 'nope'")
    both = await hub.run_turn([call("add", 3, a=1, b=1), call("add", 4, a=2, b=2), unknown], TRUST_ALL)
    line = summary_line(both, 10.0)
    assert line.startswith("2 tool calls ran in 0.01s (") and line.endswith(" if one after another), 1 could not run")


async def test_streamable_http_server(http_server: str) -> None:
    config = settings({"web": {"url": http_server, "trusted_tools": ["add"]}})
    async with ToolHub(config) as hub:
        (status,) = hub.statuses
        (result,) = await hub.run_turn([call("add", server="web", a=20, b=22)], ConsentPolicy.from_settings(config))
    assert status.started and status.transport == "http" and "add" in {t.name for t in status.tools}
    assert (result.status, result.text, result.approved_by) == ("ok", "42.0", "trusted")


def test_importing_the_tools_package_does_not_import_the_sdk() -> None:
    code = ("import sys, assistant.tools, assistant.tools.hub, assistant.providers.openai, assistant.engine.tools_loop; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('mcp', 'mcp_types', 'pydantic', 'anyio')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2]).stdout.strip()
    assert out == "[]"


async def test_no_servers_means_no_tools() -> None:
    async with ToolHub(settings({})) as hub:
        assert hub.tools == () and hub.statuses == ()
    assert inventory_lines(()) == ["No MCP servers are configured; add one as [mcp.servers.NAME] in config.toml."]


def test_calls_and_tool_descriptions_from_outside_are_sanitised_for_display() -> None:
    shown = call_line(ToolCall("c", "t", "write_note", {"text": "hi\x1b]0;title\x07\x9b2J"}, wire_name="write_note"))
    assert shown.startswith("t.write_note {") and not any(c in shown for c in "\x1b\x07\x9b")
    spec = ToolSpec("evil", "x", "Does x.\x1b[8m hidden \x1b]52;c;Zm9v\x07", {})
    lines = inventory_lines([ServerStatus("evil", "stdio", True, "", (spec,))])
    assert lines == ["evil (stdio): started, 1 tool", "  x - Does x.^[[8m hidden ^[]52;c;Zm9v^G"]
