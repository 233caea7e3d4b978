"""The first screen of an empty conversation: which model will answer now and why, and the keys to start with."""

from __future__ import annotations

from textual.widgets import Static

from assistant.core.types import RoutePreview

KEYS = ("Enter sends · ctrl+j new line · ↑ earlier prompts · F2 model · ctrl+b history · "
        "F1 every key · ctrl+p commands")


def preview_lines(preview: RoutePreview | None, *, engine_ready: bool) -> list[str]:
    """"Answering now: ..." and, under it, the models left out and why."""
    if preview is None:
        return ["Answering now: " + ("checking which model can answer…" if engine_ready else "starting up…")]
    if preview.ref is None:
        return [f"Nothing can answer now: {preview.reason}"]
    why = preview.reason.partition(" - ")[2]
    if preview.local:
        why = "on this machine, free" + (f", {why}" if why and why != "local" else "")
    lines = [f"Answering now: {preview.ref} ({why or 'cloud'})"]
    return lines + [f"  {note}" for note in preview.notes]


class Welcome(Static):
    """Shown while the conversation is empty; the app passes the router's preview down."""

    def __init__(self) -> None:
        super().__init__("", id="welcome", markup=False)
        self.preview: RoutePreview | None = None
        self.engine_ready = False

    def on_mount(self) -> None:
        self.refresh_text()

    def show_preview(self, preview: RoutePreview | None, *, engine_ready: bool = True) -> None:
        self.preview, self.engine_ready = preview, engine_ready
        if self.is_mounted:
            self.refresh_text()

    def refresh_text(self) -> None:
        lines = ["Ask anything. Answers come from models on this machine first; every fallback and cost is shown.", ""]
        lines += preview_lines(self.preview, engine_ready=self.engine_ready)
        self.update("\n".join([*lines, "", KEYS]))
