"""Per-conversation system prompt, temperature, and whether it is kept out of the team cache."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Input, Label, TextArea


@dataclass(frozen=True)
class ConversationSettings:
    system: str | None
    temperature: float | None
    private: bool = False


def parse_temperature(text: str) -> float | None:
    """Empty means the model's default; anything else must be a number from 0 to 2."""
    text = text.strip()
    if not text:
        return None
    value = float(text)
    if not 0.0 <= value <= 2.0:
        raise ValueError(text)
    return value


class ConversationSettingsScreen(ModalScreen[ConversationSettings | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("ctrl+s", "save", "Save")]

    def __init__(self, system: str | None, temperature: float | None, private: bool = False) -> None:
        super().__init__(classes="dialog")
        self.system = system or ""
        self.temperature = "" if temperature is None else f"{temperature:g}"
        self.private = private

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box wide"):
            yield Label("System prompt for this conversation (empty: none):")
            yield TextArea(self.system, id="system", soft_wrap=True)
            yield Label("Temperature, 0 to 2 (empty: the model's default):")
            yield Input(self.temperature, id="temperature", placeholder="e.g. 0.7")
            yield Checkbox("Private: keep this conversation out of the team cache (never read, never shared)",
                           self.private, id="private")
            yield Label("Enter in the temperature field or ctrl+s saves; Esc cancels.", classes="hint")

    def action_save(self) -> None:
        try:
            temperature = parse_temperature(self.query_one("#temperature", Input).value)
        except ValueError:
            self.notify("Temperature must be a number from 0 to 2, or empty for the model's default.", severity="error")
            return
        system = self.query_one("#system", TextArea).text.strip() or None
        self.dismiss(ConversationSettings(system, temperature, self.query_one("#private", Checkbox).value))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_save()

    def action_cancel(self) -> None:
        self.dismiss(None)
