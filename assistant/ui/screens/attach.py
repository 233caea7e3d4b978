"""Attach a file to the next question: a path, completed as you type (Tab or → takes the suggestion)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import Input, Static


def complete_path(value: str, base: Path) -> str | None:
    """The first entry (folders end in /) whose name continues what is typed; hidden ones only when asked for."""
    if not value:
        return None
    typed = Path(os.path.expanduser(value))
    folder = typed if value.endswith(os.sep) else typed.parent
    stem = "" if value.endswith(os.sep) else typed.name
    where = folder if folder.is_absolute() else base / folder
    try:
        names = sorted(os.listdir(where))
    except OSError:
        return None
    for name in names:
        if name.startswith(stem) and name != stem and (stem.startswith(".") or not name.startswith(".")):
            slash = os.sep if (where / name).is_dir() else ""
            return value + name[len(stem):] + slash
    return None


class PathSuggester(Suggester):
    """Paths from the folder the app was started in; listing a folder happens off the event loop."""

    def __init__(self, base: Path) -> None:
        super().__init__(use_cache=False, case_sensitive=True)  # files come and go: never cached
        self.base = base

    async def get_suggestion(self, value: str) -> str | None:
        return await asyncio.to_thread(complete_path, value, self.base)


class AttachScreen(ModalScreen[str | None]):
    """Dismisses with the path typed, or None on Escape."""

    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("tab", "complete", "Complete", show=False)]

    def __init__(self, base: Path) -> None:
        super().__init__(classes="dialog")
        self.base = base

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Static("Attach a text file or an image (PNG, JPEG, GIF, WebP) to the next question:", markup=False)
            yield Input(placeholder=f"a path, from {self.base}", suggester=PathSuggester(self.base), id="path")
            yield Static("Tab completes · Enter attaches · Esc cancels. Each file goes with the next question only; "
                         "remove one by clicking its chip (or focus it and press Enter).", classes="hint", markup=False)

    def action_complete(self) -> None:
        field = self.query_one(Input)
        suggestion = complete_path(field.value, self.base)
        if suggestion:
            field.value = suggestion
            field.cursor_position = len(suggestion)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        path = event.value.strip()
        if path:  # kept as typed: it is the name the model and history see (relative to where the app started)
            self.dismiss(path)

    def action_cancel(self) -> None:
        self.dismiss(None)
