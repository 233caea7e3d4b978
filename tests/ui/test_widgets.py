"""Widgets in tiny host apps, and the small pure helpers behind the dialogs."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import App

from assistant.core.types import Answer, Usage
from assistant.ui.messages import SendPrompt
from assistant.ui.screens.conversation_settings import parse_temperature
from assistant.ui.screens.export import target_path
from assistant.ui.widgets.answer_view import answer_figures
from assistant.ui.widgets.bar_chart import BarChart
from assistant.ui.widgets.prompt_input import PromptInput


class Host(App[None]):
    def __init__(self, widget) -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        self.widget = widget
        self.sent: list[str] = []

    def compose(self):  # type: ignore[no-untyped-def]
        yield self.widget

    def on_send_prompt(self, message: SendPrompt) -> None:
        self.sent.append(message.text)


async def test_prompt_enter_sends_and_ctrl_j_adds_a_line():
    app = Host(PromptInput())
    async with app.run_test() as pilot:
        app.widget.focus()
        await pilot.press("a", "ctrl+j", "b", "shift+enter", "c")
        assert app.widget.text == "a\nb\nc"
        await pilot.press("enter")
        await pilot.pause()
        assert app.sent == ["a\nb\nc"] and app.widget.text == ""
        await pilot.press("enter")  # an empty prompt is not sent
        await pilot.pause()
        assert app.sent == ["a\nb\nc"]


async def test_bar_chart_scales_to_the_largest_value():
    chart = BarChart("t", width=10)
    app = Host(chart)
    async with app.run_test():
        chart.plot([("a", 1.0), ("bb", 0.5)], "$")
        lines = str(chart.render()).splitlines()
        assert lines[0] == " a ██████████ $1.0000"
        assert lines[1] == "bb █████      $0.5000"


def test_answer_figures_name_model_source_speed_and_money():
    answer = Answer("hi", "openai", "gpt-4o-mini", False, Usage(10, 21), 0.0123, 0.0, 200.0, 1200.0, "c1")
    assert answer_figures(answer, False) == "openai:gpt-4o-mini · cloud · first token 200 ms · 20.0 tok/s · 21 tokens · cost $0.0123"
    cached = Answer("hi", "ollama", "llama3.2", True, Usage(10, 1, estimated=True), 0.0, 0.002, 1.0, 2.0, "c1")
    assert answer_figures(cached, True) == "ollama:llama3.2 · cached · first token 1 ms · 1 tokens~ · saved $0.0020"


def test_export_target_path(tmp_path: Path):
    assert target_path("", "My chat: part 1", "md", tmp_path) == tmp_path / "my-chat-part-1.md"
    assert target_path("sub/", "T", "json", tmp_path) == tmp_path / "sub" / "t.json"
    assert target_path(str(tmp_path / "x.md"), "T", "md", tmp_path) == tmp_path / "x.md"


def test_temperature_must_be_between_0_and_2():
    assert parse_temperature(" ") is None and parse_temperature("0.7") == 0.7
    for bad in ("3", "-1", "warm"):
        with pytest.raises(ValueError):
            parse_temperature(bad)
