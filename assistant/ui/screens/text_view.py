"""Select any part of a message (or the whole transcript) and copy it, with the keyboard or the mouse."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static, TextArea


class TextViewScreen(ModalScreen[None]):
    """A read-only editor over the text: shift+arrows or the mouse select, ctrl+c copies, Esc closes."""

    BINDINGS = [Binding("escape", "close", "Close"), Binding("ctrl+c", "copy", "Copy selection", priority=True)]

    def __init__(self, title: str, text: str) -> None:
        super().__init__(classes="dialog")
        self.title_text = title
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box wide", id="text-view"):
            yield Label(self.title_text, markup=False)
            yield TextArea(self.text, read_only=True, soft_wrap=True, id="text", show_line_numbers=False)
            yield Static("Select with shift+arrows or the mouse (ctrl+a: all) · ctrl+c copies the selection "
                         "(or everything) · Esc closes", classes="hint", markup=False)

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def action_copy(self) -> None:
        area = self.query_one(TextArea)
        chosen = area.selected_text or area.text
        self.app.copy_to_clipboard(chosen)
        what = "the selection" if area.selected_text else "all of it"
        self.notify(f"Copied {what} ({len(chosen):,} characters).")

    def action_close(self) -> None:
        self.dismiss(None)
