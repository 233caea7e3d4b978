"""Attachments of the chat screen: the files the next question carries (ctrl+f or the palette adds one, its chip
takes it off); they are read and checked off the event loop and sent once, with the next question."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.message import Message
from textual.screen import Screen

from assistant.core.textsafe import for_terminal
from assistant.ui.widgets.attachment_chips import AttachmentChips

if TYPE_CHECKING:
    from assistant.core.types import Attachment
    from assistant.engine.engine import Engine
    from assistant.ui.widgets.prompt_input import PromptInput


@dataclass(eq=False, repr=False)
class AttachmentRead(Message):
    attachment: Attachment


class AttachmentActions(Screen[None]):
    """The chips live above the prompt, mounted the first time a file is attached."""

    engine: Engine | None
    pending_files: list[Attachment]

    if TYPE_CHECKING:  # provided by ChatScreen
        @property
        def prompt(self) -> PromptInput: ...

    def action_attach(self) -> None:
        from assistant.ui.screens.attach import AttachScreen

        def chosen(path: str | None) -> None:
            if path:
                self.read_attachment(path)

        self.app.push_screen(AttachScreen(Path.cwd()), chosen)

    @work(thread=True, exit_on_error=False, group="attach")
    def read_attachment(self, path: str) -> None:
        """Files are read and hashed here; a file that cannot be sent says why, in one line, as a notification."""
        if self.engine is None:
            self.notify("Still starting up; try again in a moment.", severity="warning")
            return
        self.post_message(AttachmentRead(self.engine.attach(path)))

    def on_attachment_read(self, message: AttachmentRead) -> None:
        found = message.attachment
        if any(a.digest == found.digest and a.name == found.name for a in self.pending_files):
            self.notify(f"{for_terminal(found.name)} is attached already.")
            return
        self.pending_files.append(found)
        self._show_chips()
        self.prompt.focus()

    def on_attachment_chips_removed(self, message: AttachmentChips.Removed) -> None:
        if 0 <= message.index < len(self.pending_files):
            gone = self.pending_files.pop(message.index)
            self.notify(f"{for_terminal(gone.name)} will not be sent.")
        self._show_chips()
        self.prompt.focus()

    def take_attachments(self) -> tuple[Attachment, ...]:
        """What the question being sent carries; the chips go."""
        files, self.pending_files = tuple(self.pending_files), []
        self._show_chips()
        return files

    def _show_chips(self) -> None:
        found = self.query(AttachmentChips)
        chips = found.first() if found else None
        if chips is None:
            if not self.pending_files:
                return
            chips = AttachmentChips()
            prompt = self.prompt
            prompt.parent.mount(chips, before=prompt)  # type: ignore[union-attr]
        chips.show(self.pending_files)
