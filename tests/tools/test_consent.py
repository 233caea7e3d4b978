"""Consent: a call with a side effect runs only when trusted, allowed by name, or approved by the user."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.core.events import Choice
from assistant.core.tools import ToolCall
from assistant.tools import ConsentPolicy, ToolHub
from assistant.tools.consent import REFUSED_FOR_MODEL
from tests.tools.conftest import settings, stdio_server


def write(path: Path, n: int = 1) -> ToolCall:
    return ToolCall(f"call_{n}", "t", "write_note", {"path": str(path), "text": f"note {n}"}, wire_name="write_note")


class Dialog:
    """Stands where the TUI's dialog will: records what it was shown and answers as scripted."""

    def __init__(self, *answers: Choice) -> None:
        self.answers = list(answers)
        self.shown: list[ToolCall] = []

    async def __call__(self, call: ToolCall) -> Choice:
        self.shown.append(call)
        return self.answers.pop(0)


async def test_cli_refuses_and_says_how_to_allow(hub: ToolHub, tmp_path: Path) -> None:
    note = tmp_path / "note.txt"
    (result,) = await hub.run_turn([write(note)], ConsentPolicy.from_settings(hub.settings))
    assert not note.exists()
    assert (result.status, result.approved_by, result.text) == ("refused", "refused", REFUSED_FOR_MODEL)
    assert result.note == ('refused t.write_note: tools run only when allowed; run again with --allow-tool t.write_note, '
                           'or add "write_note" to trusted_tools in [mcp.servers.t]')


@pytest.mark.parametrize("name", ["write_note", "t.write_note"])
async def test_allow_tool_by_name_or_server_dot_tool(hub: ToolHub, tmp_path: Path, name: str) -> None:
    note = tmp_path / "note.txt"
    (result,) = await hub.run_turn([write(note)], ConsentPolicy.from_settings(hub.settings, allowed=[name]))
    assert (result.status, result.approved_by) == ("ok", "--allow-tool")
    assert note.read_text() == "note 1"


async def test_allow_tool_of_another_server_does_not_count(hub: ToolHub, tmp_path: Path) -> None:
    note = tmp_path / "note.txt"
    (result,) = await hub.run_turn([write(note)], ConsentPolicy.from_settings(hub.settings, allowed=["other.write_note"]))
    assert result.status == "refused" and not note.exists()


async def test_trusted_tools_from_config(tmp_path: Path) -> None:
    note = tmp_path / "note.txt"
    config = settings({"t": stdio_server(trusted_tools=["write_note"])})
    async with ToolHub(config) as hub:
        (result,) = await hub.run_turn([write(note)], ConsentPolicy.from_settings(config))
    assert (result.status, result.approved_by, note.read_text()) == ("ok", "trusted", "note 1")


async def test_user_approves_once_then_is_asked_again(hub: ToolHub, tmp_path: Path) -> None:
    dialog = Dialog("once", "refuse")
    first, second = await hub.run_turn([write(tmp_path / "a.txt", 1), write(tmp_path / "b.txt", 2)],
                                       ConsentPolicy.from_settings(hub.settings, approver=dialog))
    assert [c.arguments["path"] for c in dialog.shown] == [str(tmp_path / "a.txt"), str(tmp_path / "b.txt")]
    assert (first.status, first.approved_by) == ("ok", "user once")
    assert (second.status, second.approved_by, second.note) == ("refused", "refused", "refused t.write_note: you refused it")
    assert (tmp_path / "a.txt").exists() and not (tmp_path / "b.txt").exists()


async def test_always_for_this_tool_is_remembered_for_the_session(hub: ToolHub, tmp_path: Path) -> None:
    dialog = Dialog("always")
    policy = ConsentPolicy.from_settings(hub.settings, approver=dialog)
    first = await hub.run_turn([write(tmp_path / "a.txt", 1), write(tmp_path / "b.txt", 2)], policy)
    later = await hub.run_turn([write(tmp_path / "c.txt", 3)], policy)
    assert len(dialog.shown) == 1 and policy.always_allowed == {"t.write_note"}
    assert [r.approved_by for r in first + later] == ["user always", "user always", "user always"]
    assert all((tmp_path / f"{n}.txt").exists() for n in "abc")


async def test_a_failing_dialog_refuses(hub: ToolHub, tmp_path: Path) -> None:
    async def broken(call: ToolCall) -> Choice:
        raise RuntimeError("the screen went away")

    (result,) = await hub.run_turn([write(tmp_path / "a.txt")], ConsentPolicy.from_settings(hub.settings, approver=broken))
    assert result.status == "refused" and not (tmp_path / "a.txt").exists()
    assert result.note == "refused t.write_note: asking for approval failed (RuntimeError)"


async def test_an_approved_call_starts_while_the_next_dialog_is_open(hub: ToolHub, tmp_path: Path) -> None:
    """The first call's side effect exists by the time the user is asked about the second one."""
    seen_when_asked: list[bool] = []

    async def dialog(call: ToolCall) -> Choice:
        if call.id == "call_2":
            import asyncio

            for _ in range(200):  # give the first call a chance to finish (bounded, no timing assertion)
                if (tmp_path / "a.txt").exists():
                    break
                await asyncio.sleep(0.05)
            seen_when_asked.append((tmp_path / "a.txt").exists())
        return "once"

    await hub.run_turn([write(tmp_path / "a.txt", 1), write(tmp_path / "b.txt", 2)],
                       ConsentPolicy.from_settings(hub.settings, approver=dialog))
    assert seen_when_asked == [True]


async def test_the_model_naming_no_known_tool_is_never_asked_about(hub: ToolHub) -> None:
    dialog = Dialog()
    unknown = ToolCall("call_1", "", "", {}, wire_name="rm_rf", problem="no tool is named 'rm_rf'")
    (result,) = await hub.run_turn([unknown], ConsentPolicy.from_settings(hub.settings, approver=dialog))
    assert dialog.shown == [] and result.status == "error" and result.note == "rm_rf did not run: no tool is named 'rm_rf'"


async def test_observer_sees_each_call_start_and_finish(hub: ToolHub, tmp_path: Path) -> None:
    events: list[tuple[str, str]] = []
    calls = [ToolCall("call_1", "t", "add", {"a": 1, "b": 2}, wire_name="add"), write(tmp_path / "x.txt", 2)]
    await hub.run_turn(calls, ConsentPolicy({"t": ["add"]}), observer=lambda c, r: events.append((c.id, r.status if r else "start")))
    assert ("call_2", "refused") in events
    assert events.index(("call_1", "start")) < events.index(("call_1", "ok"))
