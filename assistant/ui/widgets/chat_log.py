"""The scrolling transcript: user prompts, answers and notices, kept pinned to the newest line."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textual.containers import VerticalScroll
from textual.widgets import Static

from assistant.core.records import StoredToolCall
from assistant.core.textsafe import for_terminal
from assistant.core.tools import ToolResult
from assistant.ui.widgets.answer_view import AnswerView, answer_figures
from assistant.ui.widgets.attachment_chips import attached_line

# Very long prompts (a pasted file) are shown shortened; the full text is still sent and stored.
SHOW_PROMPT_CHARS = 4000


class ChatLog(VerticalScroll):
    """Mounts one widget per turn; `anchor()` keeps the view at the bottom until the user scrolls up."""

    def on_mount(self) -> None:
        self.anchor()

    def add_user(self, text: str) -> None:
        shown = text if len(text) <= SHOW_PROMPT_CHARS else text[:SHOW_PROMPT_CHARS] + f"\n… ({len(text):,} characters in all)"
        self.mount(Static(for_terminal(shown), classes="user", markup=False))

    def start_answer(self) -> AnswerView:
        view = AnswerView()
        self.mount(view)
        return view

    def add_notice(self, text: str, level: str = "info", before: Any = None) -> None:
        notice = Static(for_terminal(text), classes=f"notice {level}", markup=False)
        if before is not None and before.parent is self:
            self.mount(notice, before=before)
        else:
            self.mount(notice)

    def show_conversation(self, messages: list[Any], replays: dict[int, str] | None = None,
                          tool_calls: Sequence[StoredToolCall] = ()) -> None:
        """`replays` names the cache tier that served an answer (message id -> exact, team or semantic);
        `tool_calls` are the calls the answers made (shown collapsed above each answer's text)."""
        from assistant.engine.tiers import REPLAYED

        replays = replays or {}
        tools: dict[int | None, list[ToolResult]] = {}
        if tool_calls:
            from assistant.tools.display import from_stored

            for call in tool_calls:
                tools.setdefault(call.message_id, []).append(from_stored(call))
        self.remove_children()
        widgets: list[Static | AnswerView] = []
        for m in messages:
            if m.role == "user":
                shown = m.content if len(m.content) <= SHOW_PROMPT_CHARS else m.content[:SHOW_PROMPT_CHARS] + "…"
                shown += attached_line(m.attachments)
                widgets.append(Static(for_terminal(shown), classes="user", markup=False))
            elif m.role == "assistant":
                status = "" if m.status == "complete" else f"({m.status})"
                header = f"{m.provider}:{m.model}"
                if m.id in replays:
                    header += f" · {REPLAYED.get(replays[m.id], 'cached answer')}"
                if m.similarity is not None:
                    status = f"similar question ({m.similarity:.0%} alike) {status}".strip()
                widgets.append(AnswerView(for_terminal(m.content), header=for_terminal(header), status=status,
                                          tools=tools.get(m.id, ()), message_id=m.id, similar=m.similarity is not None))
        self.mount_all(widgets)

    def answers(self) -> list[AnswerView]:
        return list(self.query(AnswerView))

    def clear(self) -> None:
        self.remove_children()


__all__ = ["ChatLog", "answer_figures"]
