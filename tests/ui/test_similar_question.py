"""The chat app offers the answer to a similar earlier question: use it (free) or ask the model; mark it wrong."""

from __future__ import annotations

from typing import Any

from assistant.ui.screens.similar_question import SimilarQuestionScreen, when
from tests.helpers import Usage
from tests.ui.conftest import SIZE, ask, offline_providers, ready, settle


async def send_until_offered(pilot: Any, text: str) -> SimilarQuestionScreen:
    prompt = pilot.app.chat.query_one("#prompt")
    prompt.load_text(text)
    prompt.focus()
    await pilot.press("enter")
    for _ in range(500):
        await pilot.pause(0.01)
        if isinstance(pilot.app.screen, SimilarQuestionScreen):
            return pilot.app.screen
    raise AssertionError("the similar-question dialog never opened")


async def test_use_it_replays_the_earlier_answer_marked_similar(build_app):
    app, engine = build_app(offline_providers(["Use reversed().", Usage(9, 3)], ["A fresh one.", Usage(9, 3)]))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await ask(pilot, "How do I reverse a list in Python?")
        dialog = await send_until_offered(pilot, "how do i reverse a list in python")
        shown = " ".join(str(w.render()) for w in dialog.query("Label, Static"))
        assert "How do I reverse a list in Python?" in shown and "Use reversed()." in shown
        assert "embedded:smollm2" in shown and "alike" in shown and "today" in shown
        await pilot.press("u")
        await settle(pilot)
        answer = app.chat.log_view.answers()[-1]
        assert answer.text == "Use reversed()." and answer.similar
        assert "similar question" in str(answer.query_one(".answer-figures").render())
        assert len(engine.registry.get("embedded").requests) == 1  # the model was asked once

        await pilot.press("ctrl+t")  # marked wrong: that question never gets that answer again
        await settle(pilot)
        assert engine.queries.similar_stats().forgotten == 1
        await ask(pilot, "how do i reverse a list in python")  # no dialog: a fresh answer
        assert app.chat.log_view.answers()[-1].text == "A fresh one."


async def test_ask_the_model_instead(build_app):
    app, engine = build_app(offline_providers(["Paris.", Usage(9, 2)], ["Paris, of course.", Usage(9, 3)]))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await ask(pilot, "What is the capital of France?")
        await send_until_offered(pilot, "what's the capital of France")
        await pilot.press("escape")
        await settle(pilot)
        answer = app.chat.log_view.answers()[-1]
        assert answer.text == "Paris, of course." and not answer.similar
        assert "similar question" not in str(answer.query_one(".answer-figures").render())
        assert engine.queries.similar_stats().declined == 1


async def test_a_reused_answer_reopened_from_history_says_so(build_app):
    app, _ = build_app(offline_providers(["Use reversed().", Usage(9, 3)]))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await ask(pilot, "How do I reverse a list in Python?")
        await send_until_offered(pilot, "how do i reverse a list in python")
        await pilot.press("u")
        await settle(pilot)
        conversation = app.chat.conversation_id
        app.chat.action_new_conversation()
        app.chat.open_conversation(conversation)
        await settle(pilot)
        figures = [str(a.query_one(".answer-figures").render()) for a in app.chat.log_view.answers()]
        assert any("similar question" in f and "alike" in f for f in figures), figures


def test_when_reads_like_a_person_would_say_it() -> None:
    noon = 1_700_000_000.0
    assert when(noon, noon).startswith("today ")
    assert when(noon - 86400, noon).startswith("yesterday ")
    assert when(noon - 10 * 86400, noon)[:4].isdigit()
