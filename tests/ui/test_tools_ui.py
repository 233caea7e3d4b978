"""MCP tools in the chat app: the consent dialog (once, always, refuse), calls shown collapsed and sanitised, a
dialog closed when its answer stops, and calls shown again when the conversation is reopened."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from assistant.compose import Setup, setup_at
from assistant.ui.app import AssistantApp, make_app
from assistant.ui.screens.tool_consent import ToolConsentScreen
from assistant.ui.widgets.tool_call_view import ToolCallView
from tests.fakes import openai as foa
from tests.fakes.server import Reply, Seen
from tests.tools.conftest import stdio_server
from tests.tools.engine_helpers import tool_engine
from tests.ui.conftest import SIZE, ready, settle

EVIL = "pwned\x1b]0;title\x07\x1b[2J\x9b31m"


def _route(note: Path) -> Any:
    """A new question asks for calls named in it; once results come back, the model says what they were."""
    def route(seen: Seen) -> Reply:
        messages = json.loads(seen.body)["messages"]
        if messages[-1]["role"] == "tool":
            said = "; ".join(m["content"][:30] for m in messages if m["role"] == "tool")
            return Reply(200, foa.chat_stream([f"Results: {said}."]), content_type="text/event-stream")
        prompt = messages[-1]["content"]
        calls = [("c1", "write_note", {"path": str(note), "text": "hi"})] if "note" in prompt else []
        calls += [("c2", "echo", {"text": EVIL})] if "echo" in prompt else []
        return Reply(200, foa.tool_calls_stream(calls), content_type="text/event-stream")
    return route


@asynccontextmanager
async def tool_app(home: Path, note: Path) -> AsyncIterator[tuple[AssistantApp, Any]]:
    with foa.FakeOpenAI(replies=None) as fake:
        fake.routes[("POST", foa.PATH)] = _route(note)
        engine = tool_engine(home, {"openai": fake.base_url}, server=stdio_server(trusted_tools=["echo", "sleep"]),
                             general={"default_model": "openai:gpt-4o-mini"})
        app = make_app(Setup(setup_at(home).paths, engine.settings, engine.registry), engine_factory=lambda s: engine)
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            yield app, pilot


async def _send(pilot: Any, text: str) -> None:
    prompt = pilot.app.chat.query_one("#prompt")
    prompt.load_text(text)
    prompt.focus()
    await pilot.press("enter")


async def _dialog(pilot: Any) -> ToolConsentScreen:
    for _ in range(1000):  # until the model's call reaches the dialog (bounded; nothing is timed)
        await pilot.pause(0.02)
        if isinstance(pilot.app.screen, ToolConsentScreen):
            return pilot.app.screen
    raise AssertionError("no consent dialog appeared")


async def test_allow_once_runs_the_call_and_refuse_does_not(isolated_env: Path, tmp_path: Path) -> None:
    note = tmp_path / "note.txt"
    async with tool_app(isolated_env, note) as (app, pilot):
        await _send(pilot, "write a note")
        dialog = await _dialog(pilot)
        assert (dialog.call.server, dialog.call.tool, dict(dialog.call.arguments)) == \
            ("t", "write_note", {"path": str(note), "text": "hi"})
        assert app.focused is not None and app.focused.id == "refuse"  # Enter alone never runs anything
        await pilot.press("n")
        await settle(pilot)
        assert not note.exists()
        first = app.chat.log_view.answers()[-1]
        (view,) = first.query(ToolCallView)
        assert view.collapsed and str(view.title).startswith("t.write_note refused")
        assert "did not allow" in first.text

        await _send(pilot, "write a note again")
        await _dialog(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert note.read_text() == "hi"
        (view,) = app.chat.log_view.answers()[-1].query(ToolCallView)
        assert "ran in" in str(view.title) and "(user once)" in str(view.title)
        figures = str(app.chat.log_view.answers()[-1].query_one(".answer-figures").render())
        assert "1 tool call ran in" in figures


async def test_always_asks_once_for_the_rest_of_the_session(isolated_env: Path, tmp_path: Path) -> None:
    note = tmp_path / "note.txt"
    async with tool_app(isolated_env, note) as (app, pilot):
        await _send(pilot, "write a note")
        await _dialog(pilot)
        await pilot.press("a")
        await settle(pilot)
        note.unlink()
        await _send(pilot, "write the note again")
        await settle(pilot)
        assert note.read_text() == "hi" and not isinstance(app.screen, ToolConsentScreen)
        (view,) = app.chat.log_view.answers()[-1].query(ToolCallView)
        assert "(user always)" in str(view.title)


async def test_tool_output_is_collapsed_and_sanitised(isolated_env: Path, tmp_path: Path) -> None:
    async with tool_app(isolated_env, tmp_path / "n.txt") as (app, pilot):
        await _send(pilot, "echo this")
        await settle(pilot)
        (view,) = app.chat.log_view.answers()[-1].query(ToolCallView)
        assert view.collapsed
        shown = str(view.query_one(".tool-output").render())
        assert "pwned" in shown and not any(c in shown for c in "\x1b\x07\x9b")
        view.collapsed = False
        await pilot.pause()
        assert view.query_one(".tool-output").display


async def test_stopping_the_answer_closes_its_open_dialog(isolated_env: Path, tmp_path: Path) -> None:
    note = tmp_path / "note.txt"
    async with tool_app(isolated_env, note) as (app, pilot):
        await _send(pilot, "write a note")
        await _dialog(pilot)
        app.chat.action_stop()  # Esc on the chat (in the dialog, Esc refuses the call)
        await settle(pilot)
        assert not isinstance(app.screen, ToolConsentScreen) and not note.exists()


async def test_reopened_conversation_shows_its_calls(isolated_env: Path, tmp_path: Path) -> None:
    async with tool_app(isolated_env, tmp_path / "n.txt") as (app, pilot):
        await _send(pilot, "echo this")
        await settle(pilot)
        conversation = app.chat.conversation_id
        app.chat.action_new_conversation()
        app.chat.open_conversation(conversation)
        await settle(pilot)
        (view,) = app.chat.log_view.answers()[-1].query(ToolCallView)
        assert str(view.title).startswith("t.echo ran in") and view.collapsed
        assert "\x1b" not in str(view.query_one(".tool-output").render())
