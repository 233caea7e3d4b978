"""The prompt box: Enter sends, ctrl+j (or shift+enter where the terminal reports it) inserts a newline, Up and
Down in an empty prompt recall earlier questions, PageUp and PageDown scroll the transcript."""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.widgets import TextArea

from assistant.ui.messages import SendPrompt

# Pastes larger than this are kept whole but shown folded, so the editor never lays out a megabyte of text.
FOLD_PASTE_CHARS = 20_000


class PromptInput(TextArea):
    """A multi-line prompt that posts SendPrompt; large pastes are held aside and sent with the prompt."""

    BINDINGS = [
        Binding("enter", "submit", "Send", show=True),
        Binding("ctrl+j", "newline", "Newline", show=True),
        Binding("shift+enter,alt+enter", "newline", "Newline", show=False),
        Binding("up", "recall(1)", "Earlier prompt", show=False),
        Binding("down", "recall(-1)", "Later prompt", show=False),
        Binding("pageup", "screen.scroll_transcript(-1)", "Scroll up", show=False),
        Binding("pagedown", "screen.scroll_transcript(1)", "Scroll down", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, soft_wrap=True, tab_behavior="focus", compact=True, highlight_cursor_line=False,
                         placeholder="Ask anything.  Enter sends, ctrl+j adds a line, ↑ recalls, F1 shows every key.")
        self.folded: list[str] = []
        self.recall_list: list[str] = []  # earlier questions, newest first
        self._recalled: int | None = None  # index into history of the prompt on show, while it is unchanged

    async def _on_key(self, event: events.Key) -> None:
        # TextArea would insert a newline on Enter; here Enter sends.
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            self.action_submit()
            return
        await super()._on_key(event)

    async def _on_paste(self, event: events.Paste) -> None:
        if len(event.text) > FOLD_PASTE_CHARS:
            event.stop()
            event.prevent_default()
            self.folded.append(event.text)
            lines = event.text.count("\n") + 1
            self.insert(f"[pasted {len(event.text):,} characters, {lines:,} lines #{len(self.folded)}]")
            return
        await super()._on_paste(event)

    def action_newline(self) -> None:
        self.insert("\n")

    def remember(self, text: str) -> None:
        """A sent question goes to the front of the recall list (once)."""
        if text.strip() and len(text) <= 4000:
            self.recall_list = [text] + [h for h in self.recall_list if h != text]
        self._recalled = None

    def action_recall(self, step: int) -> None:
        """Up (1) and Down (-1) walk through earlier questions while the prompt is empty or shows one unchanged;
        otherwise they move the cursor."""
        recalled = self._recalled is not None and self.text == self.recall_list[self._recalled]
        if self.text and not recalled:
            self.action_cursor_up() if step > 0 else self.action_cursor_down()
            return
        index = (-1 if self._recalled is None or not recalled else self._recalled) + step
        if index < 0:
            self._recalled = None
            self.load_text("")
            return
        if index >= len(self.recall_list):
            return
        self._recalled = index
        self.load_text(self.recall_list[index])
        self.move_cursor(self.document.end)

    def full_text(self) -> str:
        """The prompt with folded pastes put back in place of their markers."""
        text = self.text
        for n, pasted in enumerate(self.folded, 1):
            lines = pasted.count("\n") + 1
            text = text.replace(f"[pasted {len(pasted):,} characters, {lines:,} lines #{n}]", pasted, 1)
        return text

    def action_submit(self) -> None:
        text = self.full_text()
        if not text.strip():
            return
        self.post_message(SendPrompt(text))
        self.folded = []
        self._recalled = None
        self.clear()
