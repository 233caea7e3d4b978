"""A question in the transcript: focusable, so it can be edited and sent again as a new branch."""

from __future__ import annotations

from textual.binding import Binding
from textual.content import Content
from textual.widgets import Static

from assistant.core.textsafe import for_terminal
from assistant.ui.widgets.transcript_item import ITEM_BINDINGS, TranscriptItem

# Very long prompts (a pasted file) are shown shortened; the full text is still sent and stored.
SHOW_PROMPT_CHARS = 4000


class UserMessage(TranscriptItem, Static, can_focus=True):
    BINDINGS = [*ITEM_BINDINGS, Binding("e,enter", "item('edit')", "Edit", tooltip="Edit this question and send it "
                                        "again as a new branch (this one stays, ←/→ switches)")]

    def __init__(self, text: str, message_id: int | None = None, parent_id: int | None = None,
                 alternatives: tuple[int, ...] = (), *, note: str = "") -> None:
        super().__init__(classes="user", markup=False)
        self.full_text = text
        self.note = note.strip("\n")  # shown under the question (its attached files), never part of an edit
        self.message_id, self.parent_id, self.alternatives = message_id, parent_id, alternatives

    @property
    def text(self) -> str:
        return self.full_text

    def on_mount(self) -> None:
        self.show_alternatives()

    def show_alternatives(self) -> None:
        text = self.full_text
        if len(text) > SHOW_PROMPT_CHARS:
            text = text[:SHOW_PROMPT_CHARS] + f"\n… ({len(text):,} characters in all)"
        marker = self.alternatives_text()
        parts: list[Content | tuple[str, str]] = [Content(for_terminal(text))]
        if self.note:
            parts.append(Content("\n" + self.note))
        if marker:
            parts.append(("\n" + marker + "  ←/→ switch", "dim"))
        self.update(Content.assemble(*parts))
