"""The defects of issue 13, one test each (each failed on the main branch before the fix)."""

from __future__ import annotations

import asyncio

from textual.widgets import DataTable, Input, OptionList

from assistant.core.errors import RateLimited
from assistant.ui.widgets.footer import KeyBar
from tests.helpers import ScriptedProvider, Usage, real_provider
from tests.ui.conftest import SIZE, ask, offline_providers, ready, settle


def notices(app) -> list[str]:
    return [str(n.render()) for n in app.chat.log_view.query(".notice")]


def figures(answer) -> str:
    return str(answer.query_one(".answer-figures").render())


async def test_1_every_panel_key_pressed_twice_never_crashes(build_app):
    app, _ = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        for key in ("f4", "f5", "f6"):
            await pilot.press(key)
            await settle(pilot)
            await pilot.press(key)  # the same key again closes the panel it opened
            await settle(pilot)
            assert app.is_running and app.screen is app.chat
        await pilot.press("f5", "f6", "f4", "f5")  # panels replace one another
        await settle(pilot)
        assert app.screen.id == "savings" and len(app.screen_stack) == 2


async def test_2_focus_always_lands_where_typing_goes(build_app):
    app, _ = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("ctrl+b", "ctrl+b")  # hide the sidebar, show it (its search box is focused)...
        await pilot.pause()
        await pilot.press("ctrl+b")  # ...and hide it again
        await pilot.press(*"hello")
        assert app.chat.query_one("#prompt").text == "hello"
        await pilot.press("f4")
        await settle(pilot)
        assert isinstance(app.focused, Input) and app.focused.id == "key-openai"  # a pasted key is not lost


async def test_3_footer_and_status_bar_fit_at_120_and_80_columns(build_app):
    app, _ = build_app()
    for size in ((120, 40), (80, 24)):
        async with app.run_test(size=size) as pilot:
            await ready(pilot)
            await settle(pilot)
            bar = app.screen.query_one(KeyBar)
            *keys, palette = bar.keys
            assert palette.label == "^p palette" and palette.end <= size[0]
            # Every key whole, left of the palette's key (its edge line is the cell before it).
            assert all(k.end < palette.start - 1 and len(k.label) == k.end - k.start for k in keys)
            names = bar.descriptions()[:-1]
            assert names[0] == "Send" and "Help" in names and "Latency" not in names
            line = app.chat.status.line(size[0])
            assert len(line) <= size[0] and "spent" in line and "saved" in line and "embedded:smollm2" in line
        app, _ = build_app()


async def test_4_the_first_screen_says_who_answers_and_the_keys(build_app):
    app, _ = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await settle(pilot)
        welcome = str(app.chat.query_one("#welcome").render())
        assert "Answering now: embedded:smollm2 (on this machine, free)" in welcome
        assert "ollama is down" in welcome  # why Ollama does not answer
        assert "F1" in welcome and "F2 model" in welcome
        assert app.chat.status.model == "auto → embedded:smollm2"
        await ask(pilot, "hi")
        assert not app.chat.query_one("#welcome").display


async def test_5_a_spinner_says_what_the_answer_waits_for(build_app):
    slow = ScriptedProvider("embedded", [["late", Usage(1, 1)]], delay=0.6, model="smollm2")
    app, _ = build_app([ScriptedProvider("ollama", [["x"]], available=False), slow])
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        prompt = app.chat.query_one("#prompt")
        prompt.load_text("hello")
        await pilot.press("enter")
        await pilot.pause(0.35)
        line = app.chat.log_view.answers()[0].query_one(".wait-line")
        first = str(line.render())
        assert "waiting for the first token from embedded:smollm2" in first and " s · " in first
        await pilot.pause(0.15)
        assert str(line.render()) != first  # it ticks
        await settle(pilot)
        assert not line.display and app.chat.log_view.answers()[0].text == "late"


async def test_5_8_a_retry_waits_on_the_spinner_not_as_a_chat_line(build_app):
    flaky = ScriptedProvider("embedded", [RateLimited("Busy (HTTP 429).", provider="embedded", retry_after=0.5),
                                          ["fine", Usage(1, 1)]], model="smollm2")
    app, _ = build_app([ScriptedProvider("ollama", [["x"]], available=False), flaky])
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        app.chat.query_one("#prompt").load_text("hello")
        await pilot.press("enter")
        await pilot.pause(0.3)
        line = str(app.chat.log_view.answers()[0].query_one(".wait-line").render())
        assert "retrying embedded:smollm2" in line and "Busy (HTTP 429)" in line
        await settle(pilot)
        assert app.chat.log_view.answers()[0].text == "fine"
        assert not any("Retrying" in n or "429" in n for n in notices(app))


async def test_6_the_chat_stays_readable_at_80_columns_and_the_layout_follows_resizes(build_app):
    app, _ = build_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        log = app.chat.query_one("#log")
        assert log.size.width >= 76 and not app.chat.sidebar.region.width
        await pilot.press("ctrl+b")  # over a narrow screen the history opens over the chat
        await pilot.pause()
        assert app.chat.sidebar.region.width and log.size.width >= 76
        await pilot.resize_terminal(50, 15)
        await pilot.pause()
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        await pilot.pause()
        assert app.chat.sidebar.region.width == 32 and log.size.width >= 80
        await pilot.resize_terminal(50, 15)
        await pilot.pause()
        await pilot.pause()
        assert not app.chat.sidebar.region.width and log.size.width >= 46


async def test_7_a_reopened_conversation_keeps_its_figures_notices_and_titles(build_app):
    app, engine = build_app(offline_providers(["Paris.", Usage(5, 2)], ["Rome.", Usage(5, 2)]))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await ask(pilot, "capital of france")
        live = figures(app.chat.log_view.answers()[0])
        cid = app.chat.conversation_id
        await pilot.press("ctrl+n")
        app.chat.open_conversation(cid)
        await settle(pilot)
        [answer] = app.chat.log_view.answers()
        assert figures(answer) == live and "embedded:smollm2 · local" in live
        assert any("ollama is down" in n and "embedded:smollm2" in n for n in notices(app))
        await ask(pilot, "and italy")
        assert "4 messages" in str(app.chat.query_one("#history-list", OptionList).get_option_at_index(0).prompt)
        search = app.chat.query_one("#history-search", Input)
        search.value = "france"
        await settle(pilot)
        await pilot.press("f8")
        await pilot.pause()
        app.screen.query_one(Input).value = "Europe"
        await pilot.press("enter")
        await settle(pilot)
        assert app.chat.sub_title == "Europe" and search.value == ""
        assert engine.queries.conversation(cid).title == "Europe"


async def test_8_the_same_notice_is_said_once_and_advice_names_the_app_keys(build_app):
    providers = [*offline_providers(["One.", Usage(1, 1)], ["Two.", Usage(1, 1)]), real_provider("openai")]
    app, _ = build_app(providers)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await ask(pilot, "one")
        await ask(pilot, "two")
        assert len([n for n in notices(app) if "ollama is down" in n]) == 1
        app.chat.model = app.engine.parse_model("openai:gpt-4o-mini")
        await ask(pilot, "three")
        failure = figures(app.chat.log_view.answers()[-1])
        assert "F4" in failure and "assistant keys set" not in failure


async def test_9_chat_and_latency_panel_show_the_same_speed(build_app):
    words = [f"w{i} " for i in range(30)] + [Usage(5, 30)]
    app, _ = build_app(offline_providers(words, delay=0.01))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await ask(pilot, "count")
        line = figures(app.chat.log_view.answers()[0])
        await pilot.press("f6")
        await settle(pilot)
        row = app.screen.query_one("#latency-table", DataTable).get_row_at(0)
        assert f"{row[7]} tok/s" in line and f"first token {row[3]}" in line
        notes = str(app.screen.query_one("#latency-notes").render())
        assert "first token: from the answering model's first try" in notes and "tokens/s:" in notes


async def test_10_long_code_lines_scroll_and_page_keys_scroll_the_transcript(build_app):
    code = "```python\nx = '" + "y" * 300 + "'\n```\n"
    app, _ = build_app(offline_providers([code + "\n\n".join(f"line {i}" for i in range(80)), Usage(1, 1)]))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await ask(pilot, "long")
        await pilot.pause(0.3)
        fence = app.chat.query_one("MarkdownFence")
        assert fence.max_scroll_x > 0 and fence.styles.scrollbar_size_horizontal == 1
        log = app.chat.query_one("#log")
        bottom = log.scroll_y
        assert app.focused is app.chat.query_one("#prompt") and bottom > 0
        await pilot.press("pageup")
        await pilot.pause(0.1)
        assert log.scroll_y < bottom
        await pilot.press("pagedown")
        await pilot.pause(0.1)
        assert log.scroll_y == bottom


async def test_10_palette_help_and_model_filter(build_app):
    app, _ = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert len(titles) == len(set(titles)) and "Keys" not in titles and "API keys" in titles
        await pilot.press("f1")
        await pilot.pause()
        assert app.screen is not app.chat and "ctrl+l" in str(app.screen.query_one("Static").render())
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.chat and not app.chat.query("HelpPanel")
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press(*"smol")
        await pilot.pause()
        options = app.screen.query_one("#models", OptionList)
        shown = [options.get_option_at_index(i).id for i in range(options.option_count)]
        assert [s for s in shown if s] == ["embedded:smollm2"]
        await pilot.press("enter")
        await settle(pilot)
        assert str(app.chat.model) == "embedded:smollm2"


async def test_10_new_conversation_during_an_answer_says_it_stopped_it(build_app):
    app, _ = build_app(offline_providers([f"w{i} " for i in range(200)], delay=0.01))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ready(pilot)
        app.chat.query_one("#prompt").load_text("long")
        await pilot.press("enter")
        await pilot.pause(0.3)
        await pilot.press("ctrl+n")
        await settle(pilot)
        await asyncio.sleep(0)
        assert any("Stopped the answer" in str(n.message) for n in app._notifications)


async def test_3b_a_key_of_the_key_bar_runs_when_clicked_and_says_what_it_does_when_pointed_at(build_app):
    from assistant.ui.screens.help import HelpScreen

    app, _ = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        bar = app.chat.query_one(KeyBar)
        help_key = next(k for k in bar.keys if k.label == "f1 Help")
        await pilot.hover(KeyBar, offset=(help_key.start + 1, 0))
        assert bar.tooltip == "Every key of the app"
        await pilot.click(KeyBar, offset=(help_key.start + 1, 0))
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
