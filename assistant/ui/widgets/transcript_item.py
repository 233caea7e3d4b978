"""What every message in the transcript can do when focused: move between messages, switch alternatives, copy,
select text; the screen does the work (the item posts an ItemAction up)."""

from __future__ import annotations

from textual.binding import Binding
from textual.widget import Widget

from assistant.ui.messages import ItemAction

# Each message widget lists these in its own BINDINGS (Textual merges bindings only from widget classes).
ITEM_BINDINGS = [
    Binding("up,k", "item('previous')", "Previous", show=False, tooltip="The message before"),
    Binding("down,j", "item('next')", "Next", show=False, tooltip="The message after (after the last: the prompt)"),
    Binding("left,[", "item('older')", "Older", show=False,
            tooltip="Show the earlier version here (an edited question, a regenerated answer)"),
    Binding("right,]", "item('newer')", "Newer", show=False, tooltip="Show the later version here"),
    Binding("c", "item('copy')", "Copy", tooltip="Copy this message"),
    Binding("s", "item('select')", "Select", tooltip="Select any part of this message to copy it"),
    Binding("escape", "item('prompt')", "Prompt", show=False, tooltip="Back to the prompt"),
]


class TranscriptItem:
    """Mixed into UserMessage and AnswerView: what they hold about the stored message behind them."""

    role = "user"
    message_id: int | None = None  # None until the message is stored
    parent_id: int | None = None
    alternatives: tuple[int, ...] = ()  # ids of every version at this place, oldest first

    @property
    def text(self) -> str:
        raise NotImplementedError

    def stored_as(self, message_id: int, parent_id: int | None, alternatives: tuple[int, ...]) -> None:
        """The stored message behind this item (known once the turn is saved); repaints the alternatives marker."""
        self.message_id, self.parent_id, self.alternatives = message_id, parent_id, alternatives
        self.show_alternatives()

    def show_alternatives(self) -> None:
        raise NotImplementedError

    def alternatives_text(self) -> str:
        """‹ 2/3 › when there are alternatives here (edited questions, regenerated answers), else nothing."""
        if len(self.alternatives) < 2 or self.message_id not in self.alternatives:
            return ""
        return f"‹ {self.alternatives.index(self.message_id) + 1}/{len(self.alternatives)} ›"

    def action_item(self, action: str) -> None:
        widget = self if isinstance(self, Widget) else None
        if widget is not None:
            widget.post_message(ItemAction(action, widget))
