"""Export dialog: choose Markdown or JSON and where to write (default: the current directory)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, RadioButton, RadioSet


@dataclass(frozen=True)
class ExportChoice:
    fmt: str  # md or json
    path: Path


def slug(title: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", title).strip("-").lower()[:60] or "conversation"


def target_path(text: str, title: str, fmt: str, cwd: Path) -> Path:
    """A folder (or nothing) gets a file named after the conversation; a file name is used as given."""
    path = Path(text.strip()).expanduser() if text.strip() else cwd
    if not path.is_absolute():
        path = cwd / path
    if path.is_dir() or text.strip().endswith(("/", "\\")):
        path = path / f"{slug(title)}.{fmt}"
    return path


class ExportScreen(ModalScreen[ExportChoice | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, cwd: Path) -> None:
        super().__init__(classes="dialog")
        self.conv_title = title
        self.cwd = cwd

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            title = self.conv_title if len(self.conv_title) <= 50 else self.conv_title[:49] + "…"
            yield Label(f"Export '{title}'", markup=False)
            with RadioSet(id="format"):
                yield RadioButton("Markdown", value=True, id="md")
                yield RadioButton("JSON", id="json")
            yield Label("Folder or file (empty: the current directory):")
            yield Input(str(self.cwd), id="path")
            yield Label("Enter to export, Esc to cancel.", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#path", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        pressed = self.query_one(RadioSet).pressed_button
        fmt = pressed.id if pressed is not None and pressed.id else "md"
        self.dismiss(ExportChoice(fmt, target_path(event.value, self.conv_title, fmt, self.cwd)))

    def action_cancel(self) -> None:
        self.dismiss(None)
