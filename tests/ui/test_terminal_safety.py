"""The TUI shows outside text (model names from a server, answers, titles, provider details) with escape sequences
made visible: nothing rendered on screen carries an ESC or BEL that the terminal would obey."""

from __future__ import annotations

from typing import Any

from textual.widget import Widget

from tests.helpers import ScriptedProvider, Usage
from tests.ui.conftest import SIZE, ask, ready, settle

HOSTILE_MODEL = "llama\x1b]0;owned\x07:latest"
ANSWER = "fine \x1b]52;c;cm0gLXJmIH4=\x07 \x1b[2J done"


def rendered(app: Any) -> list[str]:
    """The text of every widget on the screen, as it goes to the terminal."""
    out = []
    for widget in app.screen.query(Widget):
        try:
            out.append(str(widget.render()))
        except Exception:  # containers render nothing of their own
            continue
    return out


def live(texts: list[str]) -> list[str]:
    return [t for t in texts if "\x1b" in t or "\x07" in t]


def hostile_app(build_app: Any) -> Any:
    """Ollama lists a model whose name carries escape sequences, and answers with more of them."""
    ollama = ScriptedProvider("ollama", [[ANSWER, Usage(3, 3)]], model=HOSTILE_MODEL)
    return build_app([ollama, ScriptedProvider("embedded", [["unused"]], model="smollm2")])[0]


async def test_a_model_name_from_a_server_is_shown_harmlessly(build_app: Any) -> None:
    app = hostile_app(build_app)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await ask(pilot, "hi \x1b[31m there")
        texts = rendered(app)
        assert not live(texts), live(texts)
        answer = app.chat.log_view.answers()[0]
        assert "^[]0;owned^G" in str(answer.query_one(".answer-header").render())
        assert "^[]0;owned^G" in str(answer.query_one(".answer-figures").render())


async def test_a_stored_conversation_with_escapes_loads_harmlessly(build_app: Any) -> None:
    app = hostile_app(build_app)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await ask(pilot, "title \x1b]0;x\x07 here")
        cid = app.chat.conversation_id
        await pilot.press("ctrl+n")  # a new chat, then the stored one again from history
        await settle(pilot)
        app.chat.open_conversation(cid)
        await settle(pilot)
        texts = rendered(app)
        assert not live(texts), live(texts)
        assert any("^[]0;owned^G" in t for t in texts)
