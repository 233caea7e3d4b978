"""The dialog for a similar question answered before: the earlier question and answer, when, by which model, how
alike; use that answer (free) or ask the model. Dismisses with True for "use it"."""

from __future__ import annotations

import time

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from assistant.core.events import SimilarFound
from assistant.core.money import usd
from assistant.core.textsafe import for_terminal, one_line

# The earlier answer is shown in full up to this many characters (scrollable); the rest is elided.
SHOW_ANSWER_CHARS = 6000


def when(timestamp: float, now: float | None = None) -> str:
    """"today 14:05", "yesterday 09:12" or "2025-03-04 17:30"."""
    now = time.time() if now is None else now
    day = time.strftime("%Y-%m-%d", time.localtime(timestamp))
    if day == time.strftime("%Y-%m-%d", time.localtime(now)):
        return "today " + time.strftime("%H:%M", time.localtime(timestamp))
    if day == time.strftime("%Y-%m-%d", time.localtime(now - 86400)):
        return "yesterday " + time.strftime("%H:%M", time.localtime(timestamp))
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(timestamp))


class SimilarQuestionScreen(ModalScreen[bool]):
    BINDINGS = [
        Binding("u", "use", "Use it"),
        Binding("a", "ask", "Ask the model"),
        Binding("escape", "ask", "Ask the model", show=False),
    ]

    def __init__(self, found: SimilarFound) -> None:
        super().__init__(classes="dialog", id="similar-question")
        self.found = found

    def compose(self) -> ComposeResult:
        f = self.found
        answer = f.text if len(f.text) <= SHOW_ANSWER_CHARS else f.text[:SHOW_ANSWER_CHARS] + "\n…"
        saving = f"free, saves {usd(f.saves_usd)}" if f.saves_usd > 0 else "free"
        with Vertical(classes="dialog-box wide"):
            yield Label(f"A similar question was answered before ({f.similarity:.0%} alike)", classes="title")
            yield Static(for_terminal(one_line(f.prompt)), classes="similar-prompt", markup=False)
            yield Label(f"{when(f.created_at)} · {for_terminal(str(f.ref))}", classes="hint", markup=False)
            with VerticalScroll(classes="similar-answer"):
                yield Static(for_terminal(answer), markup=False)
            with Horizontal(classes="buttons"):
                yield Button(f"Use it (u) · {saving}", variant="primary", id="use")
                yield Button("Ask the model (a)", id="ask")

    def on_mount(self) -> None:
        self.query_one("#use", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "use")

    def action_use(self) -> None:
        self.dismiss(True)

    def action_ask(self) -> None:
        self.dismiss(False)
