"""The chat screen's side of MCP tools: start the servers in the background, ask before each call, show the calls."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on, work
from textual.screen import Screen

from assistant.ui import messages as msg

if TYPE_CHECKING:
    from textual.message import Message

    from assistant.core.events import Choice, Event
    from assistant.engine.engine import Engine
    from assistant.ui.screens.tool_consent import ToolConsentScreen
    from assistant.ui.widgets.answer_view import AnswerView
    from assistant.ui.widgets.chat_log import ChatLog


def tool_message(event: Event) -> Message | None:
    """The chat worker's tool events as the screen's messages (None for any other event)."""
    from assistant.core.events import ToolCallFinished, ToolCallRequested, ToolCallStarted

    if isinstance(event, ToolCallRequested):
        return msg.ToolConsentAsked(event.call, event.reply)
    if isinstance(event, ToolCallStarted):
        return msg.ToolActivity(event.call)
    if isinstance(event, ToolCallFinished):
        return msg.ToolActivity(event.call, event.result)
    return None


class ToolPrompts(Screen[None]):
    """A dialog per call nobody has allowed (one at a time, in the model's order); answers it never outlive."""

    engine: Engine | None
    current: AnswerView | None
    _asking: list[ToolConsentScreen]

    if TYPE_CHECKING:  # provided by ChatScreen
        @property
        def log_view(self) -> ChatLog: ...

    @work(exclusive=True, exit_on_error=False, group="tools")
    async def start_tools(self) -> None:
        """Start the MCP servers while the user types, so the first question that may use them does not wait."""
        assert self.engine is not None
        await self.engine.tools.start()
        for line in self.engine.tools.failures():
            self.log_view.add_notice(line, "warning")

    def on_tool_consent_asked(self, message: msg.ToolConsentAsked) -> None:
        from assistant.ui.screens.tool_consent import ToolConsentScreen

        if message.reply.answered:
            return
        dialog = ToolConsentScreen(message.call)
        asking = self.__dict__.setdefault("_asking", [])
        asking.append(dialog)

        def answered(choice: Choice | None) -> None:
            if dialog in asking:
                asking.remove(dialog)
            message.reply.answer(choice or "refuse")
        self.app.push_screen(dialog, answered)

    def on_tool_activity(self, message: msg.ToolActivity) -> None:
        if self.current is None:
            return
        if message.result is None:
            self.current.tool_started(message.call)
        else:
            self.current.tool_finished(message.call, message.result)

    @on(msg.AnswerStopped)
    @on(msg.AnswerFailed)
    @on(msg.AnswerFinished)
    def _close_dialogs(self) -> None:
        """A dialog left open when its answer ended (Esc, a failure) asks about nothing any more: close it."""
        for dialog in list(self.__dict__.get("_asking", [])):
            if dialog.is_attached:
                dialog.dismiss("refuse")
