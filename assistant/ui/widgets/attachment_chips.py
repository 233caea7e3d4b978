"""The files attached to the next question, as chips above the prompt; pressing one takes it off."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.containers import HorizontalGroup
from textual.content import Content
from textual.message import Message
from textual.widgets import Button

from assistant.core.textsafe import for_terminal
from assistant.core.units import size_text

if TYPE_CHECKING:
    from assistant.core.types import Attachment


def chip_label(attachment: Attachment) -> str:
    kind = f"{attachment.width}×{attachment.height}" if attachment.is_image else size_text(attachment.size)
    return f"{'🖼' if attachment.is_image else '📎'} {for_terminal(attachment.name)} · {kind} ✕"


def attached_line(files: tuple[Attachment, ...] | list[Attachment]) -> str:
    """What a sent question carried, as a line under it in the transcript ("" when nothing)."""
    if not files:
        return ""
    return "\n" + "  ".join(f"{'🖼' if a.is_image else '📎'} {for_terminal(a.name)}" for a in files)


class AttachmentChips(HorizontalGroup):
    """Hidden while nothing is attached; `files` is what the next question will carry."""

    @dataclass(eq=False, repr=False)
    class Removed(Message):
        index: int

    def __init__(self) -> None:
        super().__init__(id="attachments")
        self.files: list[Attachment] = []

    def show(self, files: list[Attachment]) -> None:
        """Chips for `files`; each carries its place in the list as its name (ids would outlive a removal)."""
        self.files = list(files)
        self.remove_children()
        self.mount_all(Button(Content(chip_label(a)), name=str(i), classes=f"chip chip-{i}", compact=True)
                       for i, a in enumerate(self.files))
        self.display = bool(self.files)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.name is not None:
            self.post_message(self.Removed(int(event.button.name)))
