"""SVG snapshots (textual pinned to 8.2.8) at 80x24 and 120x40: the first screen, the chat after an answer, the
history over a narrow screen, keys, model picker, help; and a tiny terminal."""

from __future__ import annotations

import dataclasses

import pytest

from assistant.ui.widgets import answer_view
from tests.helpers import Usage
from tests.ui.conftest import ask, offline_providers, ready, settle

ANSWER = ["# Adding numbers\n\nUse a function:\n\n", "```python\ndef add(a, b):\n    return a + b\n```\n\n",
          "It returns the **sum**.", Usage(12, 20)]


@pytest.fixture
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Timings on screen are measured, so the pictures show fixed ones (the real formatter still runs)."""
    real = answer_view.answer_figures

    def fixed(answer, local):  # type: ignore[no-untyped-def]
        return real(dataclasses.replace(answer, ttft_ms=120.0, total_ms=620.0, answer_ms=500.0), local)

    monkeypatch.setattr(answer_view, "answer_figures", fixed)
    monkeypatch.setattr("assistant.ui.widgets.history_sidebar._when", lambda ts: "Nov 14")


def steady(pilot) -> None:
    """A blinking cursor would make the picture depend on the moment it is taken."""
    pilot.app.chat.query_one("#prompt").cursor_blink = False


SIZES = [(80, 24), (120, 40)]
SIZE_IDS = ["80x24", "120x40"]


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_first_screen(build_app, snap_compare, size):
    app, _ = build_app()

    async def run_before(pilot) -> None:
        await ready(pilot)
        steady(pilot)
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", [*SIZES, (40, 12)], ids=[*SIZE_IDS, "tiny-terminal"])
def test_chat(build_app, snap_compare, fixed_clock, size):
    app, _ = build_app(offline_providers(ANSWER))

    async def run_before(pilot) -> None:
        await ready(pilot)
        steady(pilot)
        await ask(pilot, "How do I add two numbers in Python?" if size[0] > 40 else "add?")
        await settle(pilot)
        await pilot.pause(0.3)  # let the transcript finish scrolling to its end

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_history_over_a_conversation(build_app, snap_compare, fixed_clock, size):
    app, _ = build_app(offline_providers(ANSWER))

    async def run_before(pilot) -> None:
        await ready(pilot)
        steady(pilot)
        await ask(pilot, "How do I add two numbers in Python?")
        await pilot.press("ctrl+b") if size[0] < 110 else pilot.app.chat.query_one("#history-search").focus()
        await settle(pilot)
        pilot.app.chat.query_one("#history-search").cursor_blink = False
        await pilot.pause(0.3)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("key", ["f4", "f2", "f1"], ids=["keys-without-keyring", "model-picker", "help"])
@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_screen(build_app, snap_compare, key, size):
    app, _ = build_app()

    async def run_before(pilot) -> None:
        await ready(pilot)
        steady(pilot)
        await pilot.press(key)
        await settle(pilot)
        if hasattr(pilot.app.focused, "cursor_blink"):  # a focused field blinks too
            pilot.app.focused.cursor_blink = False
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=size, run_before=run_before)
