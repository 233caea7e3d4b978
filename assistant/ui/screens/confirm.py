"""A yes/no dialog for actions that cannot be undone (deleting a conversation)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ConfirmScreen(ModalScreen[bool]):
    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("y", "confirm", "Yes")]

    def __init__(self, question: str, *, yes: str = "Delete (y)", no: str = "Keep (Esc)", danger: bool = True) -> None:
        super().__init__(classes="dialog")
        self.question = question
        self.labels = (yes, no)
        self.danger = danger

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Static(self.question, markup=False)  # a long question wraps instead of being cut
            with Horizontal(classes="buttons"):
                yield Button(self.labels[0], variant="error" if self.danger else "primary", id="yes")
                yield Button(self.labels[1], id="no")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)
