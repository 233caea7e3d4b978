"""App-level behaviour: model picker, conversation settings, palette commands, theme memory, failed workers."""

from __future__ import annotations

from textual.widgets import Input, OptionList, TextArea

from assistant.core.types import ModelRef
from assistant.ui.screens.chat import ChatScreen
from assistant.ui.state import load_state
from tests.helpers import ScriptedProvider, Usage
from tests.ui.conftest import SIZE, ask, offline_providers, ready, settle


async def test_model_picker_groups_models_with_prices_and_remembers(build_app, isolated_env):
    providers = [*offline_providers(), ScriptedProvider("openai", [["Hi", Usage(1, 1)]], local=False, model="gpt-4o-mini")]
    app, _ = build_app(providers, environ={"OPENAI_API_KEY": "sk-test-0000"})
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("f2")
        await settle(pilot)
        options = app.screen.query_one("#models", OptionList)
        lines = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert lines[0].startswith("Automatic")
        assert "embedded" in lines and "openai" in lines
        mini = next(line for line in lines if line.strip().startswith("gpt-4o-mini "))
        assert "[ready]" in mini and "per Mtok" in mini
        assert any("llama3.2" in line and "[unavailable]" in line for line in lines)
        index = next(i for i in range(options.option_count) if options.get_option_at_index(i).id == "openai:gpt-4o-mini")
        options.highlighted = index
        await pilot.press("enter")
        await settle(pilot)
        assert app.chat.model == ModelRef("openai", "gpt-4o-mini")
        assert app.chat.status.model == "openai:gpt-4o-mini"
        await ask(pilot, "hello cloud")
        figures = str(app.chat.log_view.answers()[0].query_one(".answer-figures").render())
        assert "openai:gpt-4o-mini · cloud" in figures and "cost $" in figures
    assert load_state(isolated_env / "data" / "state.json")["model"] == "openai:gpt-4o-mini"


async def test_system_prompt_and_temperature_reach_the_request(build_app):
    app, engine = build_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ready(pilot)
        await pilot.press("f3")
        await pilot.pause()
        app.screen.query_one("#system", TextArea).load_text("Answer like a pirate.")
        app.screen.query_one("#temperature", Input).value = "5"
        app.screen.query_one("#temperature", Input).focus()
        await pilot.press("enter")
        await pilot.pause()
        assert any("from 0 to 2" in str(n.message) for n in app._notifications)
        app.screen.query_one("#temperature", Input).value = "0.3"
        await pilot.press("enter")
        await settle(pilot)
        await ask(pilot, "hello")
        sent = engine.registry.get("embedded").requests[-1]
        assert sent.system == "Answer like a pirate." and sent.settings.temperature == 0.3
        conv = engine.history.get_conversation(app.chat.conversation_id)
        assert conv.system == "Answer like a pirate."


async def test_every_binding_is_a_palette_command(build_app):
    app, _ = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        titles = {c.title for c in app.get_system_commands(app.screen)}
        for binding in [*ChatScreen.BINDINGS, *app.BINDINGS]:
            if binding.action != "quit":
                assert binding.description in titles
        assert "Theme" in " ".join(titles)


async def test_theme_is_remembered_between_runs(build_app, isolated_env):
    app, _ = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        app.theme = "nord"
        await pilot.pause()
    again, _ = build_app()
    assert again.theme == "nord"


async def test_unexpected_crash_in_a_provider_is_shown_not_raised(build_app):
    app, _ = build_app(offline_providers(["some text ", RuntimeError("boom")]))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await ask(pilot, "crash please")
        figures = app.chat.log_view.answers()[0].query_one(".answer-figures")
        assert "failed unexpectedly (RuntimeError)" in str(figures.render()) and "error" in figures.classes
        # the partial answer is kept, not left "streaming"
        status = app.engine.conn.execute("SELECT status FROM messages WHERE role = 'assistant'").fetchone()[0]
        assert status == "interrupted"
        assert app.is_running
