"""The first screen of an empty conversation: which model will answer now and why, and the keys to start with."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Static

from assistant.core.textsafe import for_terminal

if TYPE_CHECKING:
    from assistant.core.types import RoutePreview


KEYS = ("Enter sends · ctrl+j new line · ↑ earlier prompts · F2 model · ctrl+b history · "
        "F1 every key · ctrl+p commands")


def preview_lines(preview: RoutePreview) -> list[str]:
    """"Answering now: ..." and, under it, the models left out and why."""
    if preview.ref is None:
        return [f"Nothing can answer now: {preview.reason}"]
    why = preview.reason.partition(" - ")[2]
    if preview.local:
        why = "on this machine, free" + (f", {why}" if why and why != "local" else "")
    lines = [f"Answering now: {preview.ref} ({why or 'cloud'})"]
    return lines + [f"  {note}" for note in preview.notes]


class Welcome(Static):
    """Shown while the conversation is empty. The first frame shows what the last run found (the app remembers
    it); the router's preview repaints it only when it says something else."""

    def __init__(self) -> None:
        super().__init__("", id="welcome", markup=False)
        self.lines = ["Answering now: checking which model can answer…"]
        self._shown = ""

    def on_mount(self) -> None:
        self._paint()

    def show_lines(self, lines: list[str]) -> None:
        self.lines = lines
        if self.is_mounted:
            self._paint()

    def _paint(self) -> None:
        intro = "Ask anything. Answers come from models on this machine first; every fallback and cost is shown."
        text = "\n".join([intro, "", *self.lines, "", KEYS])
        if text != self._shown:
            self._shown = text
            self.update(for_terminal(text))  # model names and reasons can come from a server
