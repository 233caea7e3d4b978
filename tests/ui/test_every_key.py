"""Every key of every screen, and every palette command, pressed twice: the app never crashes and never fails
silently (a crash in a handler ends run_test with the exception; a failed worker would show "Unexpected")."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.helpers import Usage
from tests.ui.conftest import SIZE, ask, offline_providers, ready, settle

Situation = Callable[[Any], Awaitable[None]]


def _press(*keys: str) -> Situation:
    async def open_(pilot: Any) -> None:
        await pilot.press(*keys)
        await settle(pilot)
    return open_


def _focus(index: int) -> Situation:
    async def open_(pilot: Any) -> None:
        items = pilot.app.chat.log_view.items()
        items[index].focus()
        await pilot.pause()
    return open_


async def _sidebar(pilot: Any) -> None:
    pilot.app.chat.query_one("#history-list").focus()
    await pilot.pause()


async def _prompt(pilot: Any) -> None:
    pilot.app.chat.query_one("#prompt").focus()
    await pilot.pause()


SITUATIONS: dict[str, Situation] = {
    "prompt": _prompt, "question": _focus(0), "answer": _focus(-1), "sidebar": _sidebar,
    "keys": _press("f4"), "savings": _press("f5"), "latency": _press("f6"), "help": _press("f1"),
    "model picker": _press("f2"), "system prompt": _press("f3"), "export": _press("ctrl+s"),
    "rename": _press("f8"), "delete": _press("f9"), "select text": _press("ctrl+l"),
    "models": _press("f7"), "attach": _press("ctrl+f"),
}


def unexpected(app: Any) -> list[str]:
    return [str(n.message) for n in app._notifications if "Unexpected" in str(n.message)]


async def back_to_a_conversation(pilot: Any) -> None:
    app = pilot.app
    app.back_to_chat()
    app.chat.workers.cancel_group(app.chat, "chat")
    await settle(pilot)
    if app.chat.conversation_id is None or len(app.chat.log_view.items()) < 2:
        app.chat.action_new_conversation()
        await ask(pilot, "a question")


@pytest.mark.slow
@pytest.mark.parametrize("situation", list(SITUATIONS))
async def test_every_key_twice(build_app, tmp_path, monkeypatch, situation):
    monkeypatch.chdir(tmp_path)  # an export or a screenshot lands here
    app, _ = build_app(offline_providers(["An answer.", Usage(2, 2)]))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ready(pilot)
        await back_to_a_conversation(pilot)
        await SITUATIONS[situation](pilot)
        keys = sorted({b.key.split(",")[0] for (_, b, _, _) in app.screen.active_bindings.values()} - {"ctrl+q"})
        assert len(keys) >= 3
        where = (type(app.screen), type(app.focused))
        for key in keys:
            if (type(app.screen), type(app.focused)) != where or app.chat.conversation_id is None:
                await back_to_a_conversation(pilot)  # the last key went somewhere else: start from the same place
                await SITUATIONS[situation](pilot)
            await pilot.press(key)
            await pilot.pause()
            await pilot.press(key)
            await settle(pilot)
            assert app.is_running, key
        assert unexpected(app) == []
        await pilot.press("ctrl+q")
        await pilot.press("ctrl+q")  # quitting twice is quitting
        await pilot.pause()
    assert app.return_code == 0


@pytest.mark.slow
@pytest.mark.parametrize("over", ["chat", "savings", "model picker"])
async def test_every_palette_command_twice(build_app, tmp_path, monkeypatch, over):
    monkeypatch.chdir(tmp_path)
    app, _ = build_app(offline_providers(["An answer.", Usage(2, 2)]))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ready(pilot)
        await back_to_a_conversation(pilot)
        titles = [c.title for c in app.get_system_commands(app.chat) if c.title != "Quit"]
        assert {"Help", "API keys", "Savings", "Latency", "Model", "Select text", "Regen"} <= set(titles)
        for title in titles:
            await back_to_a_conversation(pilot)
            if over != "chat":
                await SITUATIONS[over](pilot)
            for _ in range(2):
                # Some commands change their own title (Maximize / Minimize): then the other one runs.
                command = next((c for c in app.get_system_commands(app.screen) if c.title == title), None)
                if command is None:
                    continue
                command.callback()
                await settle(pilot)
                assert app.is_running, title
        assert unexpected(app) == []
