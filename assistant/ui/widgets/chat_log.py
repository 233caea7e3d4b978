"""The scrolling transcript: the welcome, questions, answers and notices, kept pinned to the newest line."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Static

from assistant.core.textsafe import for_terminal
from assistant.ui.widgets.attachment_chips import attached_line
from assistant.ui.widgets.transcript_item import TranscriptItem
from assistant.ui.widgets.welcome import Welcome

if TYPE_CHECKING:
    from assistant.core.records import StoredMessage, StoredToolCall
    from assistant.core.types import Answer
    from assistant.ui.widgets.answer_view import AnswerView
    from assistant.ui.widgets.user_message import UserMessage


def route_note(reason: str) -> str | None:
    """The part of an answer's route worth a line when reopened: a model skipped or failed before it."""
    return reason if " - answered by " in reason else None


class ChatLog(VerticalScroll, can_focus=False):
    """Mounts one widget per turn; `anchor()` keeps the view at the bottom until the user scrolls up.

    Not focusable itself: Tab and shift+Tab move between the messages, PageUp/PageDown scroll it from the prompt.
    The message widgets (and Markdown) are imported with the first message: an empty chat paints without them.
    """

    def compose(self) -> Any:
        yield Welcome()

    def on_mount(self) -> None:
        self.anchor()

    @property
    def welcome(self) -> Welcome:
        return self.query_one(Welcome)

    def _leave_welcome(self) -> None:
        self.welcome.display = False

    def add_user(self, text: str, note: str = "") -> UserMessage:
        """A question; `note` is shown under it (the files it carries)."""
        from assistant.ui.widgets.user_message import UserMessage

        self._leave_welcome()
        item = UserMessage(text, note=note)
        self.mount(item)
        return item

    def start_answer(self) -> AnswerView:
        from assistant.ui.widgets.answer_view import AnswerView

        self._leave_welcome()
        view = AnswerView()
        self.mount(view)
        return view

    def add_notice(self, text: str, level: str = "info", before: Any = None) -> None:
        notice = Static(for_terminal(text), classes=f"notice {level}", markup=False)
        if before is not None and before.parent is self:
            self.mount(notice, before=before)
        else:
            self.mount(notice)

    def show_conversation(self, messages: list[StoredMessage], answers: dict[int, Answer] | None = None,
                          is_local: Callable[[str], bool] = lambda provider: False,
                          tool_calls: Sequence[StoredToolCall] = ()) -> None:
        """A stored branch, each answer with the figures and route notes it had when it arrived, and its tool
        calls (collapsed above its text)."""
        tools: dict[int | None, list[Any]] = {}
        if tool_calls:
            from assistant.tools.display import from_stored

            for call in tool_calls:
                tools.setdefault(call.message_id, []).append(from_stored(call))
        from assistant.ui.widgets import answer_view
        from assistant.ui.widgets.user_message import UserMessage

        self.clear()
        self._leave_welcome()
        widgets: list[Widget] = []
        said: set[str] = set()
        for m in messages:
            if m.role == "user":
                widgets.append(UserMessage(m.content, m.id, m.parent_id, m.siblings,
                                           note=attached_line(m.attachments)))
            elif m.role == "assistant":
                answer = (answers or {}).get(m.id)
                note = route_note(answer.route_reason) if answer is not None else None
                if note and note not in said:  # the same fallback every turn is said once
                    said.add(note)
                    widgets.append(Static(for_terminal(note), classes="notice info", markup=False))
                figures = answer_view.answer_figures(answer, is_local(answer.provider)) if answer is not None else ""
                status = "" if m.status == "complete" else f"({m.status})"
                if status and figures:
                    figures = f"{figures} · {m.status}"
                if m.similarity is not None:
                    status = f"similar question ({m.similarity:.0%} alike) {status}".strip()
                    figures = f"{figures} · {status}" if figures else ""
                header = f"{m.provider}:{m.model}"
                if answer is not None:  # the same words as the figures line: cached, local or cloud
                    header += " · " + figures.split(" · ")[1]
                widgets.append(answer_view.AnswerView(for_terminal(m.content), header=header,
                                          figures=figures, status=status, message_id=m.id, parent_id=m.parent_id,
                                          alternatives=m.siblings, tools=tools.get(m.id, ()),
                                          similar=m.similarity is not None))
        self.mount_all(widgets)

    def items(self) -> list[Any]:
        """Questions and answers, in order (UserMessage and AnswerView widgets)."""
        return [w for w in self.children if isinstance(w, TranscriptItem)]

    def answers(self) -> list[AnswerView]:
        return [w for w in self.items() if w.role == "assistant"]

    def remove_from(self, item: Widget) -> None:
        """Drop `item` and everything after it (an edited question's old branch leaves the screen, not history)."""
        children = list(self.children)
        if item in children:
            for widget in children[children.index(item):]:
                widget.remove()

    def clear(self) -> None:
        """Back to an empty conversation: the welcome shows again."""
        for widget in list(self.children):
            if not isinstance(widget, Welcome):
                widget.remove()
        self.welcome.display = True

