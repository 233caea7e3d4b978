"""Chat screen: send, stream, fallback notice, cancel keeps partial, errors, harmless control sequences."""

from __future__ import annotations

import asyncio

from textual import events

from assistant.core.errors import ConnectionLost
from tests.helpers import ScriptedProvider, Usage
from tests.ui.conftest import SIZE, ask, offline_providers, ready, settle


async def test_send_streams_markdown_answer_with_figures(build_app):
    app, engine = build_app(offline_providers(["Here is **code**:\n\n```python\n", "print(1)\n```\n", Usage(7, 4)]))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await ask(pilot, "show me code")
        chat = app.chat
        [answer] = chat.log_view.answers()
        assert answer.text == "Here is **code**:\n\n```python\nprint(1)\n```\n"
        figures = str(answer.query_one(".answer-figures").render())
        assert "embedded:smollm2" in figures and "local" in figures and "$0" in figures
        assert answer.last_code_block() == "print(1)"
        stored = engine.history.messages(chat.conversation_id)
        assert [m.role for m in stored] == ["user", "assistant"] and stored[1].status == "complete"


async def test_ollama_down_gives_one_calm_notice(build_app):
    app, _ = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await ask(pilot, "hello")
        notices = [str(n.render()) for n in app.chat.log_view.query(".notice")]
        assert len(notices) == 1 and "answering with embedded:smollm2" in notices[0]
        assert app.chat.status.local == "ollama down · embedded up"
        assert "error" not in app.chat.log_view.answers()[0].query_one(".answer-figures").classes


async def test_escape_stops_and_keeps_partial_text(build_app):
    words = [f"word{i} " for i in range(400)]
    app, engine = build_app(offline_providers(words, delay=0.01))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        prompt = app.chat.query_one("#prompt")
        prompt.load_text("long answer please")
        await pilot.press("enter")
        answer = None
        for _ in range(300):
            await pilot.pause(0.02)
            answers = app.chat.log_view.answers()
            if answers and len(answers[0].text) > 30:
                answer = answers[0]
                break
        assert answer is not None
        await pilot.press("escape")
        await settle(pilot)
        assert 0 < len(answer.text) < len("".join(words))
        assert "stopped" in str(answer.query_one(".answer-figures").render())
        stored = engine.history.messages(app.chat.conversation_id)[-1]
        assert stored.status == "interrupted" and stored.content.startswith(answer.text[:20])


async def test_connection_lost_mid_answer_shows_error_and_keeps_text(build_app):
    providers = offline_providers(["Partial ", "answer", ConnectionLost("Ollama went away mid-answer; start it again.")])
    app, _ = build_app(providers)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await ask(pilot, "hello")
        [answer] = app.chat.log_view.answers()
        assert answer.text == "Partial answer"
        figures = answer.query_one(".answer-figures")
        assert "went away" in str(figures.render()) and "error" in figures.classes
        await ask(pilot, "still alive?")  # the app keeps working after a failure
        assert len(app.chat.log_view.answers()) == 2


async def test_control_sequences_are_shown_not_obeyed(build_app):
    app, _ = build_app(offline_providers(["evil \x1b]52;c;ZXZpbA==\x07 and \x1b[2J clear", Usage(1, 1)]))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await ask(pilot, "hi")
        text = app.chat.log_view.answers()[0].text
        assert "\x1b" not in text and "^[" in text


async def test_regenerate_replaces_answer_and_bypasses_cache(build_app):
    embedded = ScriptedProvider("embedded", [["first", Usage(1, 1)], ["second", Usage(1, 1)]], model="smollm2")
    app, engine = build_app([ScriptedProvider("ollama", [["x"]], available=False), embedded])
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await ask(pilot, "question")
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert [a.text for a in app.chat.log_view.answers()] == ["second"]
        stored = engine.history.messages(app.chat.conversation_id)
        assert [m.content for m in stored] == ["question", "second"]
        assert len(embedded.requests) == 2


async def test_large_paste_is_folded_but_sent_whole(build_app):
    app, _ = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        big = ("0123456789abcdef" * 64 + "\n") * 1000  # about 1 MB
        prompt = app.chat.query_one("#prompt")
        prompt.focus()
        prompt.post_message(events.Paste(big))
        await pilot.pause()
        assert len(prompt.text) < 200 and "pasted" in prompt.text
        await pilot.press("enter")
        await settle(pilot)
        embedded = app.engine.registry.get("embedded")
        assert embedded.requests[-1].messages[-1].content == big


async def test_tiny_terminal_and_prompt_before_engine(build_app):
    app, _ = build_app()
    async with app.run_test(size=(40, 12)) as pilot:
        await pilot.press(*"hi", "enter")  # may arrive before the engine is open: it is queued, not lost
        await ready(pilot)
        await settle(pilot)
        await pilot.resize_terminal(40, 12)
        await pilot.pause()
        assert app.chat.log_view.answers()[0].text == "Hello there."


async def test_engine_that_cannot_open_is_reported(build_app, isolated_env):
    from assistant.compose import load
    from assistant.core.errors import DatabaseLocked
    from assistant.ui.app import make_app

    def broken(setup):
        raise DatabaseLocked("The database is locked by another program; close it and try again.")

    app = make_app(load(), engine_factory=broken)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await asyncio.sleep(0)
        notices = [str(n.render()) for n in app.chat.log_view.query(".notice")]
        assert any("locked by another program" in n for n in notices)
        assert app.chat.status.engine == "unavailable"


async def test_typing_stays_possible_while_an_answer_streams(build_app):
    app, _ = build_app(offline_providers([f"t{i} " for i in range(600)] + [Usage(1, 600)], delay=0.002))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press(*"first", "enter")
        await pilot.pause(0.05)
        await pilot.press(*"next question")
        assert app.chat.query_one("#prompt").text == "next question"
        await settle(pilot)
        assert app.chat.log_view.answers()[0].text == "".join(f"t{i} " for i in range(600))


async def test_damaged_database_is_kept_aside_and_said(isolated_env):
    from assistant.compose import load
    from assistant.ui.app import make_app

    setup = load()
    paths = setup.paths
    paths.data_dir.mkdir(parents=True)
    paths.database.write_bytes(b"this is not a database" * 100)
    app = make_app(setup)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        notices = [str(n.render()) for n in app.chat.log_view.query(".notice")]
        assert any("damaged" in n and "corrupt" in n for n in notices)
        await app.action_quit()
