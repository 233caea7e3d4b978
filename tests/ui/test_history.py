"""History sidebar: list, open, search (FTS5), rename, delete, export to Markdown and JSON."""

from __future__ import annotations

import json

from textual.widgets import Input, OptionList

from tests.helpers import Usage
from tests.ui.conftest import SIZE, ask, offline_providers, ready, settle


def sidebar_lines(app) -> list[str]:
    options = app.chat.query_one("#history-list", OptionList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


async def two_conversations(pilot) -> None:
    await ask(pilot, "tell me about paris")
    await pilot.press("ctrl+n")
    await ask(pilot, "and about berlin")


async def test_sidebar_lists_search_and_opens(build_app):
    app, engine = build_app(offline_providers(["Paris is in France.", Usage(1, 1)], ["Berlin is in Germany.", Usage(1, 1)]))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await two_conversations(pilot)
        lines = sidebar_lines(app)
        assert lines[0].startswith("and about berlin") and lines[1].startswith("tell me about paris")
        app.chat.query_one("#history-search", Input).value = "france"
        await settle(pilot)
        [hit] = sidebar_lines(app)
        assert hit.startswith("tell me about paris") and "[France]" in hit
        options = app.chat.query_one("#history-list", OptionList)
        options.focus()
        options.highlighted = 0
        await pilot.press("enter")
        await settle(pilot)
        paris = engine.history.search("france")[0].conversation_id
        assert app.chat.conversation_id == paris
        assert [a.text for a in app.chat.log_view.answers()] == ["Paris is in France."]


async def test_rename_and_delete(build_app):
    app, engine = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await ask(pilot, "first question")
        cid = app.chat.conversation_id
        await pilot.press("f8")
        await pilot.pause()
        app.screen.query_one(Input).value = "Renamed  chat"
        await pilot.press("enter")
        await settle(pilot)
        assert engine.history.get_conversation(cid).title == "Renamed chat"
        assert sidebar_lines(app)[0].startswith("Renamed chat")
        await pilot.press("f9")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        assert engine.history.list_conversations() == []
        assert app.chat.conversation_id is None and sidebar_lines(app) == ["No conversations yet."]


async def test_export_markdown_and_json_to_chosen_path(build_app, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app, _engine = build_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ready(pilot)
        await ask(pilot, "export me")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen.query_one("#path", Input).value == str(tmp_path)
        await pilot.press("enter")
        await settle(pilot)
        written = tmp_path / "export-me.md"
        assert written.read_text().startswith("# export me")
        assert any(str(written) in str(n.message) for n in app._notifications)
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.click("#json")
        app.screen.query_one("#path", Input).value = str(tmp_path / "out" / "chat.json")
        app.screen.query_one("#path", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        data = json.loads((tmp_path / "out" / "chat.json").read_text())
        assert [m["content"] for m in data["messages"]] == ["export me", "Hello there."]
