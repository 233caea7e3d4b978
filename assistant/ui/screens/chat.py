"""The main screen: history sidebar, transcript, prompt and its estimate, status bar; runs the chat worker."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from typing import TYPE_CHECKING, cast

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Header, TextArea

from assistant.core.textsafe import for_terminal
from assistant.ui import messages as msg
from assistant.ui.advice import for_app
from assistant.ui.model_pulls import PullOffered
from assistant.ui.screens.chat_actions import ConversationActions
from assistant.ui.screens.chat_attachments import AttachmentActions
from assistant.ui.screens.chat_tools import ToolPrompts, tool_message
from assistant.ui.screens.chat_transcript import TranscriptActions
from assistant.ui.widgets.attachment_chips import attached_line
from assistant.ui.widgets.chat_log import ChatLog
from assistant.ui.widgets.footer import KeyBar
from assistant.ui.widgets.history_sidebar import HistorySidebar
from assistant.ui.widgets.prompt_input import PromptInput
from assistant.ui.widgets.prompt_meter import PromptMeter
from assistant.ui.widgets.status_bar import StatusBar
from assistant.ui.widgets.welcome import preview_lines
from assistant.ui.worker_errors import ForwardWorkerFailures

if TYPE_CHECKING:
    from assistant.core.conversation import Conversation
    from assistant.core.types import Attachment, ChatRequest, ModelRef, RoutePreview
    from assistant.engine.engine import Engine
    from assistant.ui.app import AssistantApp
    from assistant.ui.widgets.answer_view import AnswerView

# Streamed text is handed to the renderer at most this often; the Markdown stream batches further.
FLUSH_SECONDS = 1 / 30
# Each update lays out the whole answer again, so long answers are updated less often (at most every 0.25 s).
SLOWEST_FLUSH_SECONDS = 0.25
CHARS_PER_FLUSH_SECOND = 40_000
ESTIMATE_PAUSE = 0.25  # the estimate under the prompt waits for a pause in typing
# Keys the footer shows only on a wide screen; F1 lists every key, the palette runs every action.
WIDE_ONLY = frozenset({"newline", "regenerate", "copy_answer", "quit"})


def auto_text(preview: RoutePreview) -> str:
    """The status bar's model when the router chooses: who it would pick now."""
    return f"auto → {preview.ref}" if preview.ref else "auto (nothing can answer)"


class ChatScreen(ForwardWorkerFailures, TranscriptActions, ToolPrompts, ConversationActions, AttachmentActions):
    """Owns the conversation state; the engine is set by the app once it is open ("attributes down")."""

    # Straight to the prompt: focusing the search box first, then the prompt, would rebuild the footer twice.
    AUTO_FOCUS = "#prompt"
    BINDINGS = [
        Binding("escape", "stop", "Stop", tooltip="Stop the answer that is arriving (what arrived is kept); "
                                                  "cancel an edit"),
        Binding("ctrl+n", "new_conversation", "New", tooltip="Start a new conversation"),
        Binding("ctrl+b", "toggle_sidebar", "History", tooltip="Show or hide past conversations and search"),
        Binding("f2", "pick_model", "Model", tooltip="Pick the model, or let the router choose"),
        Binding("ctrl+f", "attach", "Attach", tooltip="Attach a text file or an image to the next question"),
        Binding("ctrl+r", "regenerate", "Regen", tooltip="Answer the last question again, bypassing the cache "
                                                          "(the earlier answer stays as an alternative)"),
        Binding("ctrl+o", "copy_answer", "Copy", tooltip="Copy the focused (or last) answer to the clipboard"),
        Binding("ctrl+g", "copy_code", "Copy code", show=False, tooltip="Copy the last code block of the answer"),
        Binding("ctrl+l", "select_text", "Select text", show=False,
                tooltip="Select and copy any text of the conversation"),
        Binding("f3", "conversation_settings", "System/temp", show=False,
                tooltip="System prompt, temperature and privacy of this conversation"),
        Binding("ctrl+s", "export", "Export", show=False, tooltip="Export the conversation to Markdown or JSON"),
        Binding("f8", "rename", "Rename", show=False, tooltip="Rename the selected conversation"),
        Binding("f9", "delete", "Delete", show=False, tooltip="Delete the selected conversation"),
        Binding("ctrl+t", "mark_wrong", "Wrong match", show=False,
                tooltip="Mark the focused (or last) answer reused from a similar question as wrong"),
    ]

    def __init__(self) -> None:
        super().__init__(id="chat")
        self.engine: Engine | None = None
        self.conversation_id: str | None = None
        self.model: ModelRef | None = None  # None lets the router choose
        self.system: str | None = None
        self.temperature: float | None = None
        self.private = False  # this conversation is kept out of the team cache (F3)
        self.current: AnswerView | None = None  # the answer being streamed into
        self.pending: str | None = None  # a prompt typed before the engine was open
        self.pending_files: list[Attachment] = []  # attached to the next question (chips above the prompt)
        self.editing: int | None = None  # the stored question the prompt replaces (a new branch), if any
        self.preview: RoutePreview | None = None
        self.said: set[str] = set()  # notices already shown this session: a repeat adds nothing
        self.session_spend = 0.0
        self.session_saved = 0.0
        self._over_confirmed = ""  # a prompt sent once past the model's window: the second Enter sends it

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="main"):
            yield HistorySidebar(id="sidebar")
            with Vertical(id="conversation"):
                yield ChatLog(id="log")
                yield PromptInput(id="prompt")
                yield PromptMeter()
        yield StatusBar(id="status")
        yield KeyBar(wide_only=WIDE_ONLY)

    def on_mount(self) -> None:
        self.query_one(PromptMeter).display = False
        self.host.first_frame(self)

    @property
    def host(self) -> AssistantApp:
        return cast("AssistantApp", self.app)

    @property
    def log_view(self) -> ChatLog:
        return self.query_one(ChatLog)

    @property
    def prompt(self) -> PromptInput:
        return self.query_one(PromptInput)

    @property
    def status(self) -> StatusBar:
        return self.query_one(StatusBar)

    @property
    def sidebar(self) -> HistorySidebar:
        return self.query_one(HistorySidebar)

    def engine_ready(self, engine: Engine, conversations: list[Conversation]) -> None:
        self.engine = engine
        self.status.engine = "ready"
        self.sidebar.show(conversations, [], "")
        if self.pending is not None:
            prompt, self.pending = self.pending, None
            self._ask(self._request(prompt))

    def give_back_pending(self) -> None:
        """The engine could not open: the question that waited for it goes back to the prompt, unsent."""
        if self.pending is not None:
            typed = self.prompt.text
            self.prompt.load_text(self.pending + (f"\n{typed}" if typed.strip() else ""))
            self.pending = None

    def show_preview(self, preview: RoutePreview) -> None:
        """The router's answer to "who would answer now": in the welcome and the status bar."""
        from assistant.core.types import RoutePreview

        self.preview = RoutePreview(preview.ref, for_app(preview.reason), preview.local,
                                    tuple(for_app(n) for n in preview.notes))
        self.log_view.welcome.show_lines(preview_lines(self.preview))
        if self.model is None and not self.busy:
            self.status.model = auto_text(preview)

    def notice(self, text: str, level: str = "info", *, before: AnswerView | None = None) -> None:
        """A line in the transcript, said once per session (the same fallback every turn is noise)."""
        text = for_app(text)
        if text not in self.said:
            self.said.add(text)
            self.log_view.add_notice(text, level, before=before)

    # sending ---------------------------------------------------------------------------------
    def _request(self, prompt: str, *, regenerate: bool = False, edit_of: int | None = None,
                 attachments: tuple[Attachment, ...] = ()) -> ChatRequest:
        """The same request `assistant ask` would build: the engine applies the configured defaults."""
        from assistant.core.types import ToolUse

        assert self.engine is not None
        request = self.engine.new_request(prompt, model=self.model, system=self.system, temperature=self.temperature,
                                          conversation_id=self.conversation_id, regenerate=regenerate,
                                          use_cache=not regenerate, private=self.private, tools=ToolUse(ask=True),
                                          suggest=True, attachments=attachments)
        return request if edit_of is None else replace(request, edit_of=edit_of)

    @property
    def busy(self) -> bool:
        return any(w.group == "chat" and not w.is_finished for w in self.workers)

    def on_send_prompt(self, message: msg.SendPrompt) -> None:
        text = message.text
        if self.pending is not None:  # one question waits for the engine already: this one waits in the prompt
            self.prompt.load_text(text)
            self.notify("Still starting up; your first question goes out in a moment, send this one after it.",
                        severity="warning")
            return
        if self.busy:
            self.prompt.load_text(text)
            self.notify("An answer is still arriving; press Esc to stop it, then send again.", severity="warning")
            return
        meter = self.query_one(PromptMeter)
        if meter.estimate is not None and meter.estimate.over_window and self._over_confirmed != text:
            self._over_confirmed = text
            self.prompt.load_text(text)
            self.notify("This question and its context are longer than the model's window; press Enter again to "
                        "send it anyway.", severity="warning")
            return
        self._over_confirmed = ""
        self.prompt.remember(text)
        meter.show(None)
        edit_of, self.editing = self.editing, None
        self.prompt.remove_class("-editing")
        self.prompt.border_title = None
        edited = self.item_for(edit_of) if edit_of is not None else None
        if edited is not None:
            self.log_view.remove_from(edited)
        files = self.take_attachments()
        self.log_view.add_user(text, attached_line(files))
        if self.engine is None:
            self.pending = text
            self.log_view.add_notice("Starting up; your question goes out as soon as the engine is open.")
            return
        self._ask(self._request(text, edit_of=edit_of, attachments=files))

    def _ask(self, request: ChatRequest) -> None:
        self.current = self.log_view.start_answer()
        self.log_view.scroll_end(animate=False)
        self.run_chat(request)

    @work(exclusive=True, exit_on_error=False, group="chat")
    async def run_chat(self, request: ChatRequest) -> None:
        from assistant.core.events import Failed, Finished, Notice, SimilarFound, Started, TextDelta, Waiting

        assert self.engine is not None
        is_local = self.engine.is_local
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
                    self.post_message(msg.AnswerStarted(event.conversation_id, str(event.ref),
                                                        is_local(event.ref.provider), event.cached, event.reason))
                elif isinstance(event, Notice):
                    self.post_message(msg.AnswerNotice(event.text, event.level, event.transient))
                elif isinstance(event, Waiting):
                    self.post_message(msg.AnswerWaiting(event.what))
                elif isinstance(event, SimilarFound):
                    self.post_message(msg.SimilarFound(event))  # the engine waits for the dialog's choice
                elif isinstance(event, Finished):
                    self.post_message(msg.AnswerFinished(event.answer))
                elif isinstance(event, Failed):
                    self.post_message(msg.AnswerFailed(event.error.message, event.conversation_id))
                    if event.error.kind == "model_not_found" and request.model is not None \
                            and self.engine.local_models.can_pull(request.model):
                        self.post_message(PullOffered(str(request.model)))  # the app offers to pull it
                elif (tool := tool_message(event)) is not None:
                    self.post_message(tool)
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
        if message.transient and self.current is not None:  # a retry: over once the answer comes, so no line
            self.current.waiting(detail=for_app(message.text))
            return
        self.notice(message.text, message.level, before=self.current)

    def on_similar_found(self, message: msg.SimilarFound) -> None:
        from assistant.ui.screens.similar_question import SimilarQuestionScreen

        if self.current is not None:
            self.current.waiting("a similar question was answered before: use it, or ask the model?")

        def chosen(use: bool | None) -> None:
            message.found.decide(bool(use))
            if not use and self.current is not None:
                self.current.waiting("asking the model…")
        self.app.push_screen(SimilarQuestionScreen(message.found), chosen)

    def on_answer_waiting(self, message: msg.AnswerWaiting) -> None:
        if self.current is not None:
            self.current.waiting(message.what)

    async def on_answer_finished(self, message: msg.AnswerFinished) -> None:
        answer = message.answer
        if self.current is not None:
            await self.current.finish(answer, self.engine is not None and self.engine.is_local(answer.provider))
        self.session_spend += answer.cost_usd
        self.session_saved += answer.saved_usd
        self.status.spend, self.status.saved = self.session_spend, self.session_saved
        self._adopt(answer.conversation_id)
        self.turn_ended()

    async def on_answer_failed(self, message: msg.AnswerFailed) -> None:
        await self.answer_failed(message.text)
        self._adopt(message.conversation_id)
        self.turn_ended()

    async def answer_failed(self, text: str) -> None:
        if self.current is not None:
            await self.current.end(for_app(text), error=True)

    async def on_answer_stopped(self, message: msg.AnswerStopped) -> None:
        if self.current is not None:
            await self.current.end("stopped · what arrived is kept (marked interrupted)")
        self.turn_ended()

    def _adopt(self, conversation_id: str | None) -> None:
        """A new conversation shows up in the sidebar as soon as its first answer starts."""
        if conversation_id and conversation_id != self.conversation_id:
            self.conversation_id = conversation_id
            self.load_history("")

    def action_stop(self) -> None:
        cancelled = self.workers.cancel_group(self, "chat")
        if cancelled and self.current is not None:
            self.current.stopping()  # the model may take a moment to notice; say so at once
        elif self.pending is not None:
            self.pending = None
            self.log_view.add_notice("Cancelled before it was sent.")
        elif self.editing is not None:
            self.cancel_edit()

    def use_model(self, model: ModelRef | None, *, chosen: bool = False) -> None:
        """The model this chat answers with (None: the router chooses), shown in the status bar, with the preview of
        who answers now refreshed. `chosen`: the user picked it, so it becomes the model of new conversations and of
        this one when it is reopened."""
        self.model = model
        self.status.model = "auto" if model is None else str(model)
        if chosen:
            name = "auto" if model is None else str(model)
            self.host.remember(model=name)
            if self.conversation_id is not None:
                self.save_model(self.conversation_id, None if model is None else name)
            self.notify(f"Model: {'automatic (the router chooses)' if model is None else model}")
        self.host.refresh_preview()

    def action_new_conversation(self) -> None:
        if self.busy:
            self.notify("Stopped the answer that was arriving (what arrived is kept) and started a new conversation.")
        self.action_stop()
        self.cancel_edit()
        self.conversation_id, self.system, self.temperature, self.current = None, None, None, None
        self.private = False
        self.host.show_team()
        self.use_model(self.host.default_model())
        self.log_view.clear()
        self.sub_title = ""
        self.said.clear()
        self.prompt.focus()

    def action_regenerate(self) -> None:
        if self.engine is None or self.conversation_id is None or self.busy:
            self.notify("Nothing to regenerate yet: ask something first (and wait for the answer).", severity="warning")
            return
        answers = self.log_view.answers()
        if answers:
            answers[-1].remove()
        self._ask(self._request("", regenerate=True))

    def action_mark_wrong(self) -> None:
        answer = self._target_answer()
        if self.engine is None or answer is None or not answer.similar or answer.message_id is None:
            self.notify("Only an answer reused from a similar question can be marked wrong.", severity="warning")
            return
        self.mark_wrong(answer.message_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="history-edit")
    def mark_wrong(self, message_id: int) -> None:
        assert self.engine is not None
        self.engine.queries.forget_similar(message_id)
        self.post_message(msg.Done("Marked wrong: that question will not get this answer again. Ctrl+R asks the model."))

    # layout and typing ------------------------------------------------------------------------
    def action_toggle_sidebar(self) -> None:
        if self.sidebar.region.width:
            self.set_class(True, "-sidebar-closed")
            self.set_class(False, "-sidebar-open")
            self.prompt.focus()
        else:
            self.set_class(False, "-sidebar-closed")
            self.set_class(True, "-sidebar-open")
            self.call_after_refresh(self.sidebar.query_one("#history-search").focus)

    def on_resize(self, event: events.Resize) -> None:
        # The sidebar opened over a narrow screen closes when the screen grows or shrinks past the breakpoint.
        wide = event.size.width >= self.host.WIDE_AT
        if wide != getattr(self, "_was_wide", wide) and self.has_class("-sidebar-open"):
            self.set_class(False, "-sidebar-open")
            if self.focused is None or self.sidebar in self.focused.ancestors_with_self:
                self.prompt.focus()
        self._was_wide = wide

    def action_scroll_transcript(self, pages: int) -> None:
        log = self.log_view
        log.scroll_page_down(animate=False) if pages > 0 else log.scroll_page_up(animate=False)

    @on(TextArea.Changed, "#prompt")
    def _typing(self) -> None:
        self.host.warm_local()
        self.host.warm_keys()
        self.estimate_prompt(self.prompt.full_text())

    @work(exclusive=True, exit_on_error=False, group="estimate")
    async def estimate_prompt(self, text: str) -> None:
        from assistant.core.errors import AssistantError

        if not text.strip() or self.engine is None:
            self.post_message(msg.Estimated(None))
            return
        await asyncio.sleep(ESTIMATE_PAUSE)
        ref = self.model or (self.preview.ref if self.preview is not None else None)
        try:
            estimate = await self.engine.estimate(self._request(text, edit_of=self.editing), ref)
        except AssistantError:  # a stale edit or a bad setting: the send itself will say what is wrong
            estimate = None
        self.post_message(msg.Estimated(estimate, text))

    def on_estimated(self, message: msg.Estimated) -> None:
        if message.estimate is None or message.text == self.prompt.full_text():
            self.query_one(PromptMeter).show(message.estimate)
