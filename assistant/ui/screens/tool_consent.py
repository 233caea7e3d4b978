"""The dialog that asks before a tool runs: approve once, always for this tool (this session), or refuse."""

from __future__ import annotations

import json

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from assistant.core.events import Choice
from assistant.core.textsafe import for_terminal
from assistant.core.tools import ToolCall

ARGUMENTS_SHOWN = 4000  # a huge argument is cut in the dialog (the call itself is unchanged)


class ToolConsentScreen(ModalScreen[Choice]):
    """Shows the server, the tool and its arguments (sanitised); Esc refuses."""

    ANSWER_REQUIRED = True  # the engine waits for this answer: panels open over it (AssistantApp.back_to_chat)
    BINDINGS = [Binding("y", "choose('once')", "Allow once"), Binding("a", "choose('always')", "Always"),
                Binding("n", "choose('refuse')", "Refuse"), Binding("escape", "choose('refuse')", "Refuse")]

    def __init__(self, call: ToolCall) -> None:
        super().__init__(classes="dialog")
        self.call = call

    def compose(self) -> ComposeResult:
        call = self.call
        arguments = json.dumps(dict(call.arguments), indent=2, ensure_ascii=False, sort_keys=True)
        if len(arguments) > ARGUMENTS_SHOWN:
            arguments = arguments[:ARGUMENTS_SHOWN] + f"\n… ({len(arguments):,} characters in all)"
        with Vertical(classes="dialog-box wide", id="tool-consent"):
            yield Static(for_terminal(f"The model wants to run {call.tool} on the MCP server '{call.server}'."),
                         markup=False, classes="consent-title")
            with VerticalScroll(id="tool-arguments"):
                yield Static(for_terminal(arguments), markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Allow once (y)", variant="primary", id="once")
                yield Button(for_terminal(f"Always allow {call.tool} (a)"), id="always")
                yield Button("Refuse (n)", variant="error", id="refuse")
            yield Static(for_terminal(f"\"Always\" lasts until you quit. To allow it without asking, add \"{call.tool}\" "
                                      f"to trusted_tools in [mcp.servers.{call.server}]."), markup=False, classes="hint")

    def on_mount(self) -> None:
        self.query_one("#refuse", Button).focus()  # Enter on a dialog that just appeared must not run anything

    def on_button_pressed(self, event: Button.Pressed) -> None:
        choice: Choice = "once" if event.button.id == "once" else "always" if event.button.id == "always" else "refuse"
        self.dismiss(choice)

    def action_choose(self, choice: Choice) -> None:
        self.dismiss(choice)
