"""What people expect of a chat app: edit and resend (branches), kept alternatives, prompt recall, reopening the
last conversation with its model, selecting any text, and the token count before sending."""

from __future__ import annotations

from textual.widgets import TextArea

from assistant.core.types import ModelRef
from assistant.ui.app import make_app
from tests.helpers import ScriptedProvider, Usage, engine_setup, make_engine, settings
from tests.ui.conftest import SIZE, ask, offline_providers, ready, settle


def transcript(app) -> list[str]:
    return [item.text for item in app.chat.log_view.items()]


async def focus_item(pilot, index: int) -> None:
    item = pilot.app.chat.log_view.items()[index]
    item.focus()
    await pilot.pause()


async def test_edit_an_earlier_question_branches_and_the_old_branch_stays_reachable(build_app):
    app, engine = build_app(offline_providers(["A1", Usage(1, 1)], ["A2", Usage(1, 1)], ["A2 edited", Usage(1, 1)]))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await ask(pilot, "Q1")
        await ask(pilot, "Q2")
        await pilot.press("shift+tab", "up")  # from the prompt to the last answer, then to its question
        assert app.focused is app.chat.log_view.items()[2]
        await pilot.press("e")
        prompt = app.chat.query_one("#prompt")
        assert prompt.text == "Q2" and app.focused is prompt and "Editing" in str(prompt.border_title)
        prompt.load_text("Q2, better")
        await pilot.press("enter")
        await settle(pilot)
        assert transcript(app) == ["Q1", "A1", "Q2, better", "A2 edited"]
        sent = engine.registry.get("embedded").requests[-1]
        assert [m.content for m in sent.messages] == ["Q1", "A1", "Q2, better"]  # the old Q2 and A2 are not sent
        assert prompt.border_title is None
        await focus_item(pilot, 2)
        assert "‹ 2/2 ›" in str(app.chat.log_view.items()[2].render())
        await pilot.press("left")
        await settle(pilot)
        assert transcript(app) == ["Q1", "A1", "Q2", "A2"]  # the old branch, with its answer
        assert app.focused is app.chat.log_view.items()[2] and "‹ 1/2 ›" in str(app.focused.render())
        await pilot.press("right")
        await settle(pilot)
        assert transcript(app) == ["Q1", "A1", "Q2, better", "A2 edited"]


async def test_an_edit_is_cancelled_with_escape(build_app):
    app, _ = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await ask(pilot, "Q1")
        await focus_item(pilot, 0)
        await pilot.press("e")
        await pilot.press("escape")
        prompt = app.chat.query_one("#prompt")
        assert app.chat.editing is None and prompt.text == "" and not prompt.has_class("-editing")


async def test_regenerated_answers_are_kept_and_switched_with_the_arrows(build_app):
    app, engine = build_app(offline_providers(["first", Usage(1, 1)], ["second", Usage(1, 1)]))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await ask(pilot, "question")
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert transcript(app) == ["question", "second"]
        await focus_item(pilot, 1)
        header = str(app.focused.query_one(".answer-header").render())
        assert "‹ 2/2 ›" in header
        await pilot.press("left")
        await settle(pilot)
        assert transcript(app) == ["question", "first"]
        assert [m.content for m in engine.queries.messages(app.chat.conversation_id)] == ["question", "first"]


async def test_up_and_down_in_an_empty_prompt_recall_earlier_questions(build_app):
    app, _ = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await ask(pilot, "from before")
    app, _ = build_app()  # a new run recalls what the last one asked
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await settle(pilot)
        await ask(pilot, "just now")
        prompt = app.chat.query_one("#prompt")
        prompt.focus()
        await pilot.press("up")
        assert prompt.text == "just now"
        await pilot.press("up")
        assert prompt.text == "from before"
        await pilot.press("down")
        assert prompt.text == "just now"
        await pilot.press("down")
        assert prompt.text == ""
        await pilot.press(*"typed", "up")  # text of one's own: the arrows move the cursor, nothing is replaced
        assert prompt.text == "typed"


async def test_reopen_the_last_conversation_with_its_model(isolated_env):
    cloud = ScriptedProvider("openai", [["Hi", Usage(1, 1)]], local=False, model="gpt-4o-mini")
    providers = [*offline_providers(), cloud]
    engine = make_engine(isolated_env, providers, settings(ui={"reopen_last": True}),
                         environ={"OPENAI_API_KEY": "sk-test-0"})
    setup = engine_setup(isolated_env, providers, settings(ui={"reopen_last": True}))
    app = make_app(setup, engine_factory=lambda s: engine)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        app.chat.model = ModelRef("openai", "gpt-4o-mini")
        await ask(pilot, "cloud question")
        cid = app.chat.conversation_id
        await pilot.press("ctrl+n")
        assert app.chat.model is None  # a new conversation asks the default (the router)
        await ask(pilot, "local question")
        app.chat.open_conversation(cid)
        await settle(pilot)
        assert app.chat.model == ModelRef("openai", "gpt-4o-mini") and app.chat.status.model == "openai:gpt-4o-mini"
    again = make_app(setup, engine_factory=lambda s: engine)
    async with again.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await settle(pilot)
        assert transcript(again) == ["local question", "Hello there."]  # the last conversation, open at once
        assert again.chat.model is None


async def test_select_and_copy_any_text_of_the_transcript(build_app):
    app, _ = build_app(offline_providers(["The answer is forty-two.", Usage(1, 5)]))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await ask(pilot, "what is it")
        await pilot.press("ctrl+l")
        await pilot.pause()
        area = app.screen.query_one(TextArea)
        assert area.read_only and "You:\nwhat is it" in area.text and "forty-two" in area.text
        start = area.text.index("forty")
        area.move_cursor(area.document.get_location_from_index(start))
        await pilot.press(*["shift+right"] * 9)
        await pilot.press("ctrl+c")
        assert app.clipboard == "forty-two"
        await pilot.press("escape")
        await focus_item(pilot, 1)
        await pilot.press("s")  # one message alone
        await pilot.pause()
        assert app.screen.query_one(TextArea).text == "The answer is forty-two."
        await pilot.press("ctrl+c")  # nothing selected: all of it
        assert app.clipboard == "The answer is forty-two."


async def test_the_token_count_and_window_show_before_sending(isolated_env):
    small = ScriptedProvider("embedded", [["ok", Usage(1, 1)]], model="smollm2", window=100)
    providers = [ScriptedProvider("ollama", [["x"]], available=False), small]
    engine = make_engine(isolated_env, providers)
    app = make_app(engine_setup(isolated_env, providers), engine_factory=lambda s: engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ready(pilot)
        await settle(pilot)
        prompt = app.chat.query_one("#prompt")
        prompt.focus()
        await pilot.press(*"x" * 40)
        await pilot.pause(0.4)
        await settle(pilot)
        meter = str(app.chat.query_one("#meter").render())
        est = await engine.estimate(engine.new_request("x" * 40), ModelRef("embedded", "smollm2"))
        assert est.context_window == 100 and est.prompt_tokens > 0
        assert meter.startswith(f"≈ {est.input_tokens} tokens ({est.prompt_tokens} new + 0 context) of 100 · "
                                "embedded:smollm2 · $0")
        prompt.load_text("y" * 800)
        await pilot.pause(0.4)
        await settle(pilot)
        assert "more than the model's window" in str(app.chat.query_one("#meter").render())
        await pilot.press("enter")  # warned first...
        await settle(pilot)
        assert prompt.text == "y" * 800 and not small.requests
        await pilot.press("enter")  # ...then sent
        await settle(pilot)
        assert len(small.requests) == 1 and not app.chat.query_one("#meter").display



async def test_a_new_conversation_shows_the_model_it_will_use(isolated_env):
    cloud = ScriptedProvider("openai", [["Hi", Usage(1, 1)]], local=False, model="gpt-4o-mini")
    providers = [*offline_providers(), cloud]
    engine = make_engine(isolated_env, providers, environ={"OPENAI_API_KEY": "sk-test-0"})
    app = make_app(engine_setup(isolated_env, providers, settings()), engine_factory=lambda s: engine)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        app.chat.use_model(ModelRef("openai", "gpt-4o-mini"))  # this conversation's model...
        await ask(pilot, "cloud question")
        app.remember(model="embedded:smollm2")  # ...while new conversations use the one picked last
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert str(app.chat.model) == "embedded:smollm2" and app.chat.status.model == "embedded:smollm2"
