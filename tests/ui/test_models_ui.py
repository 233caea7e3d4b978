"""The models screen (F7, the palette, the model picker) against the fake Ollama: local models with size and age,
what is loaded; a pull that keeps running while you chat, one stopped, a removal confirmed; a model asked for
but not pulled is offered for pulling."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from textual.widgets import DataTable

from assistant.ui.screens.confirm import ConfirmScreen
from assistant.ui.screens.models import ModelsScreen
from assistant.ui.widgets.pull_bar import PullBar
from tests.fakes.ollama import FakeOllama
from tests.helpers import ScriptedProvider, Usage, real_provider
from tests.ui.conftest import SIZE, ask, ready, settle


@asynccontextmanager
async def running(build_app: Any, **fake_args: Any) -> AsyncIterator[tuple[Any, Any, FakeOllama]]:
    """The app over the real Ollama provider talking to a fake, started and ready: (app, pilot, fake). The probe
    waits longer than a user's would: a loaded test machine must not make the fake look down."""
    with FakeOllama(**fake_args) as fake:
        app, _ = build_app([real_provider("ollama", host=fake.url, probe_timeout=5),
                            ScriptedProvider("embedded", [["Fine, thanks.", Usage(5, 3)]], model="smollm2")])
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            yield app, pilot, fake


def rows(app: Any) -> list[list[str]]:
    table = app.screen.query_one("#local-models", DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def wait_for(pilot: Any, condition: Any, tries: int = 400) -> None:
    for _ in range(tries):
        if condition():
            return
        await pilot.pause(0.02)
    raise AssertionError("the condition never held")


async def open_models(pilot: Any) -> None:
    await pilot.press("f7")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ModelsScreen)
    await wait_for(pilot, lambda: screen.loaded)


async def test_the_screen_lists_models_with_size_age_and_what_is_loaded(build_app):
    async with running(build_app, models=["gemma3n:e2b", "granite3.3:2b"]) as (app, pilot, _):
        await open_models(pilot)
        listed = rows(app)
        assert [r[0] for r in listed] == ["gemma3n:e2b", "granite3.3:2b"]
        assert listed[0][1] == "2.0 GB" and listed[0][2].endswith("ago") and listed[0][3] == "llama"
        assert listed[1][4].startswith("2.6 GB in memory")  # granite is loaded (the recorded /api/ps)
        await pilot.press("enter")  # Enter uses the highlighted model for the conversation
        await settle(pilot)
        assert str(app.chat.model) == "ollama:gemma3n:e2b" and app.chat.status.model == "ollama:gemma3n:e2b"


async def test_a_pull_keeps_going_while_you_chat_and_the_model_appears(build_app):
    async with running(build_app, models=[], line_delay=0.05, steps=12) as (app, pilot, fake):
        await open_models(pilot)
        await pilot.press("p")
        await settle(pilot)
        await pilot.press(*"llama3.2", "enter")
        await wait_for(pilot, lambda: app.pulls.get("llama3.2:latest") is not None
                       and app.pulls["llama3.2:latest"].phase == "downloading")
        await pilot.press("escape")  # back to the chat; the pull goes on
        bar = app.chat.query_one(PullBar)
        assert bar.display and "pulling llama3.2:latest" in str(bar.render())
        await ask(pilot, "how are you?")
        assert app.chat.log_view.answers()[-1].text == "Fine, thanks."
        await wait_for(pilot, lambda: not app.pulls)
        await settle(pilot)
        assert not bar.display and "llama3.2:latest" in fake.models
        assert any("Pulled llama3.2:latest (2.0 GB)" in str(n.message) for n in app._notifications)
        await open_models(pilot)
        assert [r[0] for r in rows(app)] == ["llama3.2:latest"]


async def test_a_pull_can_be_stopped_and_leaves_nothing(build_app):
    async with running(build_app, models=[], line_delay=0.2, steps=50) as (app, pilot, fake):
        await open_models(pilot)
        app.start_pull("llama3.2")
        await wait_for(pilot, lambda: app.pulls["llama3.2:latest"].phase == "downloading")
        await pilot.press("s")
        await wait_for(pilot, lambda: not app.pulls)
        await wait_for(pilot, lambda: bool(fake.pulls))
        assert fake.pulls == [("llama3.2:latest", "abandoned")] and fake.models == []
        assert any("Stopped pulling llama3.2:latest" in str(n.message) for n in app._notifications)


async def test_removing_asks_first(build_app):
    async with running(build_app, models=["gemma3n:e2b"]) as (app, pilot, fake):
        await open_models(pilot)
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "Remove gemma3n:e2b (2.0 GB)?" in app.screen.question
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ModelsScreen))
        assert fake.models == ["gemma3n:e2b"]
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await settle(pilot)
        await wait_for(pilot, lambda: rows(app) == [])
        assert fake.models == []


async def test_the_model_picker_leads_to_the_models_screen(build_app):
    async with running(build_app, models=["gemma3n:e2b"]) as (app, pilot, _):
        await pilot.press("f2")
        await settle(pilot)
        await open_models(pilot)
        assert len(app.screen_stack) == 2  # the picker gave way to the models screen


async def test_a_model_that_is_not_pulled_is_offered_for_pulling(build_app):
    async with running(build_app, models=["gemma3n:e2b"], line_delay=0.01) as (app, pilot, fake):
        app.chat.model = app.engine.parse_model("ollama:llama3.2")
        await ask(pilot, "hello")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert app.screen.question.startswith("ollama:llama3.2:latest is not pulled. Pull it now?")
        await pilot.press("y")
        await wait_for(pilot, lambda: "llama3.2:latest" in fake.models and not app.pulls)
