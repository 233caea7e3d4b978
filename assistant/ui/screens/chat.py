"""The main screen: history sidebar, transcript, prompt, status bar; runs the chat and history workers."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from textual import on, work
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Header, Input, TextArea

from assistant.ui.worker_errors import ForwardWorkerFailures
from assistant.textsafe import for_terminal
from assistant.ui import messages as msg
from assistant.ui.screens.chat_actions import ConversationActions
from assistant.ui.widgets.chat_log import ChatLog
from assistant.ui.widgets.footer import QuietFooter
from assistant.ui.widgets.history_sidebar import HistorySidebar
from assistant.ui.widgets.prompt_input import PromptInput
from assistant.ui.widgets.status_bar import StatusBar

# Streamed text is handed to the renderer at most this often; the Markdown stream batches further.
FLUSH_SECONDS = 1 / 30
# Each update lays out the whole answer again, so long answers are updated less often (at most every 0.25 s).
SLOWEST_FLUSH_SECONDS = 0.25
CHARS_PER_FLUSH_SECOND = 40_000


class ChatScreen(ForwardWorkerFailures, ConversationActions, Screen):
    """Owns the conversation state; the engine is set by the app once it is open ("attributes down")."""

    # Straight to the prompt: focusing the search box first, then the prompt, would rebuild the footer twice.
    AUTO_FOCUS = "#prompt"
    BINDINGS = [
        Binding("escape", "stop", "Stop", tooltip="Stop the answer that is arriving; what arrived is kept"),
        Binding("ctrl+n", "new_conversation", "New", tooltip="Start a new conversation"),
        Binding("ctrl+r", "regenerate", "Regen", tooltip="Answer the last question again, bypassing the cache"),
        Binding("ctrl+o", "copy_answer", "Copy", tooltip="Copy the focused (or last) answer to the clipboard"),
        Binding("ctrl+g", "copy_code", "Copy code", tooltip="Copy the last code block of the answer"),
        Binding("ctrl+b", "toggle_sidebar", "History", tooltip="Show or hide past conversations and search"),
        Binding("f2", "pick_model", "Model", tooltip="Pick the model, or let the router choose"),
        Binding("f3", "conversation_settings", "System/temp", tooltip="System prompt and temperature of this conversation"),
        Binding("ctrl+s", "export", "Export", tooltip="Export the conversation to Markdown or JSON"),
        Binding("f8", "rename", "Rename", tooltip="Rename the selected conversation"),
        Binding("f9", "delete", "Delete", tooltip="Delete the selected conversation"),
    ]

    def __init__(self) -> None:
        super().__init__(id="chat")
        self.engine: Any = None
        self.conversation_id: str | None = None
        self.model: Any = None  # ModelRef, or None to let the router choose
        self.system: str | None = None
        self.temperature: float | None = None
        self.current: Any = None  # the AnswerView being streamed into
        self.pending: Any = None  # a request typed before the engine was open
        self.session_spend = 0.0
        self.session_saved = 0.0

    def compose(self):  # type: ignore[no-untyped-def]
        yield Header()
        with Horizontal(id="main"):
            yield HistorySidebar(id="sidebar")
            with Vertical(id="conversation"):
                yield ChatLog(id="log")
                yield PromptInput(id="prompt")
        yield StatusBar(id="status")
        yield QuietFooter(compact=True)

    def on_mount(self) -> None:
        self.app.first_frame(self)  # type: ignore[attr-defined]

    @property
    def log_view(self) -> ChatLog:
        return self.query_one(ChatLog)

    @property
    def status(self) -> StatusBar:
        return self.query_one(StatusBar)

    def engine_ready(self, engine: Any, conversations: list[Any]) -> None:
        self.engine = engine
        self.status.engine = "ready"
        self.query_one(HistorySidebar).show(conversations, [], "")
        if self.pending is not None:
            request, self.pending = self.pending, None
            self._ask(request)

    # sending ---------------------------------------------------------------------------------
    def _request(self, prompt: str, **extra: Any) -> Any:
        from assistant.engine.types import ChatRequest, GenerationSettings

        settings = GenerationSettings(temperature=self.temperature, max_tokens=self.app.settings.generation.max_tokens)
        return ChatRequest(prompt, model=self.model, system=self.system, settings=settings,
                           conversation_id=self.conversation_id, **extra)

    @property
    def busy(self) -> bool:
        return any(w.group == "chat" and not w.is_finished for w in self.workers)

    def on_send_prompt(self, message: msg.SendPrompt) -> None:
        if self.busy:
            self.query_one(PromptInput).load_text(message.text)
            self.notify("An answer is still arriving; press Esc to stop it, then send again.", severity="warning")
            return
        self.log_view.add_user(message.text)
        request = self._request(message.text)
        if self.engine is None:
            self.pending = request
            self.log_view.add_notice("Starting up; your question goes out as soon as the engine is open.")
            return
        self._ask(request)

    def _ask(self, request: Any) -> None:
        self.current = self.log_view.start_answer()
        self.log_view.scroll_end(animate=False)
        self.run_chat(request)

    @work(exclusive=True, exit_on_error=False, group="chat")
    async def run_chat(self, request: Any) -> None:
        from assistant.engine.events import Failed, Finished, Notice, Started, TextDelta

        buffer: list[str] = []
        last = time.monotonic()
        shown = 0

        def flush() -> None:
            if buffer:
                self.post_message(msg.AnswerText(for_terminal("".join(buffer))))
                buffer.clear()

        try:
            async for event in self.engine.chat(request):
                if isinstance(event, TextDelta):
                    buffer.append(event.text)
                    shown += len(event.text)
                    interval = min(SLOWEST_FLUSH_SECONDS, max(FLUSH_SECONDS, shown / CHARS_PER_FLUSH_SECOND))
                    if time.monotonic() - last >= interval:
                        flush()
                        last = time.monotonic()
                    continue
                flush()
                if isinstance(event, Started):
                    self.post_message(msg.AnswerStarted(event.conversation_id, str(event.ref), event.ref.local,
                                                        event.cached, event.reason))
                elif isinstance(event, Notice):
                    self.post_message(msg.AnswerNotice(event.text, event.level))
                elif isinstance(event, Finished):
                    self.post_message(msg.AnswerFinished(event.answer))
                elif isinstance(event, Failed):
                    self.post_message(msg.AnswerFailed(event.error.message, event.conversation_id))
            flush()
        except asyncio.CancelledError:
            flush()
            self.post_message(msg.AnswerStopped())
            raise

    async def on_answer_started(self, message: msg.AnswerStarted) -> None:
        where = "cached" if message.cached else "local" if message.local else "cloud"
        if self.current is not None:
            self.current.started(message.model, where, message.reason)
        self._adopt(message.conversation_id)
        self.status.model = f"auto → {message.model}" if self.model is None else str(self.model)

    async def on_answer_text(self, message: msg.AnswerText) -> None:
        if self.current is not None:
            await self.current.write(message.text)

    def on_answer_notice(self, message: msg.AnswerNotice) -> None:
        self.log_view.add_notice(message.text, message.level, before=self.current)

    async def on_answer_finished(self, message: msg.AnswerFinished) -> None:
        answer = message.answer
        if self.current is not None:
            await self.current.finish(answer)
        self.session_spend += answer.cost_usd
        self.session_saved += answer.saved_usd
        self.status.spend, self.status.saved = self.session_spend, self.session_saved
        self._adopt(answer.conversation_id)
        self.load_history(self.query_one("#history-search", Input).value.strip())

    async def on_answer_failed(self, message: msg.AnswerFailed) -> None:
        await self.answer_failed(message.text)
        self._adopt(message.conversation_id)

    async def answer_failed(self, text: str) -> None:
        if self.current is not None:
            await self.current.end(text, error=True)

    async def on_answer_stopped(self, message: msg.AnswerStopped) -> None:
        if self.current is not None:
            await self.current.end("stopped · what arrived is kept (marked interrupted)")

    def _adopt(self, conversation_id: str | None) -> None:
        """A new conversation shows up in the sidebar as soon as its first answer starts."""
        if conversation_id and conversation_id != self.conversation_id:
            self.conversation_id = conversation_id
            self.load_history("")

    def action_stop(self) -> None:
        cancelled = self.workers.cancel_group(self, "chat")
        if cancelled and self.current is not None:
            self.current.stopping()  # the model may take a moment to notice; say so at once
        if not cancelled and self.pending is not None:
            self.pending = None
            self.log_view.add_notice("Cancelled before it was sent.")

    def action_new_conversation(self) -> None:
        self.action_stop()
        self.conversation_id, self.system, self.temperature, self.current = None, None, None, None
        self.log_view.clear()
        self.sub_title = ""
        self.query_one(PromptInput).focus()

    def action_regenerate(self) -> None:
        if self.engine is None or self.conversation_id is None or self.busy:
            self.notify("Nothing to regenerate yet: ask something first (and wait for the answer).", severity="warning")
            return
        answers = self.log_view.answers()
        if answers:
            answers[-1].remove()
        self._ask(self._request("", regenerate=True, use_cache=False))

    # clipboard --------------------------------------------------------------------------------
    def _target_answer(self) -> Any:
        focused = self.focused
        if focused is not None and "answer" in focused.classes:
            return focused
        answers = self.log_view.answers()
        return answers[-1] if answers else None

    def action_copy_answer(self) -> None:
        answer = self._target_answer()
        if answer is None or not answer.text:
            self.notify("There is no answer to copy yet.", severity="warning")
            return
        self.app.copy_to_clipboard(answer.text)
        self.notify(f"Copied the answer ({len(answer.text):,} characters).")

    def action_copy_code(self) -> None:
        answer = self._target_answer()
        code = answer.last_code_block() if answer is not None else None
        if code is None:
            self.notify("The answer has no code block to copy.", severity="warning")
            return
        self.app.copy_to_clipboard(code)
        self.notify(f"Copied the code block ({code.count(chr(10)) + 1} lines).")

    def action_toggle_sidebar(self) -> None:
        sidebar = self.query_one(HistorySidebar)
        sidebar.display = not sidebar.display
        if sidebar.display:
            sidebar.query_one("#history-search").focus()

    @on(TextArea.Changed, "#prompt")
    def _typing(self) -> None:
        self.app.warm_local()  # type: ignore[attr-defined]
        self.app.warm_keys()  # type: ignore[attr-defined]

    # history ------------------------------------------------------------------------------------
    def on_search_requested(self, message: msg.SearchRequested) -> None:
        self.load_history(message.query)

    @work(exclusive=True, exit_on_error=False, group="history")
    async def load_history(self, query: str) -> None:
        if self.engine is None:
            return
        await asyncio.sleep(0.15 if query else 0)  # typing replaces this worker, so search waits for a pause
        history = self.engine.history
        if query:
            self.post_message(msg.ConversationsLoaded([], query, history.search(query, limit=100)))
        else:
            self.post_message(msg.ConversationsLoaded(history.list_conversations(limit=200)))

    def on_conversations_loaded(self, message: msg.ConversationsLoaded) -> None:
        self.query_one(HistorySidebar).show(message.conversations, message.hits, message.query)

    def on_conversation_selected(self, message: msg.ConversationSelected) -> None:
        self.open_conversation(message.conversation_id)

    @work(exclusive=True, exit_on_error=False, group="conversation")
    async def open_conversation(self, conversation_id: str) -> None:
        history = self.engine.history
        conv = history.get_conversation(conversation_id)
        self.post_message(msg.ConversationOpened(conv, history.messages(conv.id)))

    def on_conversation_opened(self, message: msg.ConversationOpened) -> None:
        if self.busy:
            self.workers.cancel_group(self, "chat")
        conv = message.conversation
        self.conversation_id, self.system, self.temperature, self.current = conv.id, conv.system, conv.temperature, None
        self.sub_title = for_terminal(conv.title)
        self.log_view.show_conversation(message.messages)
        self.query_one(PromptInput).focus()

    def selected_conversation(self) -> str | None:
        return self.query_one(HistorySidebar).highlighted_id or self.conversation_id
