"""Every key of the app in one place (F1): the footer shows the most used, this shows the rest."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

_NAMES = {"escape": "Esc", "enter": "Enter", "pageup": "PageUp", "pagedown": "PageDown", "up": "↑", "down": "↓",
          "left": "←", "right": "→", "tab": "Tab"}


def key_name(key: str) -> str:
    """"escape,f1" -> "Esc / F1"."""
    names = [_NAMES.get(k, k.upper() if re.fullmatch(r"f\d+", k) else k) for k in key.split(",")]
    return " / ".join(names)


def section(title: str, bindings: Iterable[Binding]) -> str:
    rows = [(key_name(b.key), b.tooltip or b.description) for b in bindings if b.description]
    width = max((len(k) for k, _ in rows), default=0)
    return "\n".join([title, *(f"  {k:<{width}}  {what}" for k, what in rows)])


def help_sections(app: App[Any]) -> list[tuple[str, list[Binding]]]:
    """Every key, grouped by where it works."""
    from assistant.ui.screens.chat import ChatScreen
    from assistant.ui.widgets.answer_view import AnswerView
    from assistant.ui.widgets.prompt_input import PromptInput
    from assistant.ui.widgets.user_message import UserMessage

    def own(bindings: Iterable[object]) -> list[Binding]:
        return [b for b in bindings if isinstance(b, Binding)]

    item = own(UserMessage.BINDINGS)
    item += [b for b in own(AnswerView.BINDINGS) if b.key not in {i.key for i in item}]
    palette = Binding("ctrl+p", "command_palette", "Commands", tooltip="Every action by name (the command palette)")
    sidebar = [Binding("ctrl+b", "", "History", tooltip="Show or hide it; type to search every message"),
               Binding("enter", "", "Open", tooltip="Open the highlighted conversation (a search hit: at that message)"),
               Binding("f8,f9,ctrl+s", "", "Rename, delete, export",
                       tooltip="Rename, delete or export the highlighted conversation")]
    return [("Anywhere", [*own(app.BINDINGS), palette]),
            ("Chat", own(ChatScreen.BINDINGS)),
            ("Prompt", [b for b in own(PromptInput.BINDINGS) if b.key != "shift+enter,alt+enter"]),
            ("A message in the transcript (shift+Tab from the prompt, or click it)", item),
            ("History sidebar", sidebar)]


class HelpScreen(ModalScreen[None]):
    """Closes with Esc, F1 or q."""

    BINDINGS = [Binding("escape,f1,q", "close", "Close")]

    def __init__(self, sections: list[tuple[str, list[Binding]]]) -> None:
        super().__init__(classes="dialog")
        self.sections = sections

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog-box wide", id="help"):
            yield Static("\n\n".join(section(t, b) for t, b in self.sections), markup=False)
            yield Static("Every action is also in the command palette (ctrl+p). Esc, F1 or q closes this.",
                         classes="hint", markup=False)

    def action_close(self) -> None:
        self.dismiss(None)
