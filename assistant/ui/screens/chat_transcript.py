"""The chat screen's transcript and history: focused messages (edit, alternatives, copy, select), branches,
opening past conversations and the sidebar's list."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from textual import work
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input
from textual.worker import get_current_worker

from assistant.core.errors import AssistantError
from assistant.core.textsafe import for_terminal
from assistant.ui import messages as msg
from assistant.ui.widgets.transcript_item import TranscriptItem

if TYPE_CHECKING:
    from assistant.core.types import ChatRequest, ModelRef
    from assistant.engine.engine import Engine
    from assistant.ui.app import AssistantApp
    from assistant.ui.widgets.answer_view import AnswerView
    from assistant.ui.widgets.chat_log import ChatLog
    from assistant.ui.widgets.history_sidebar import HistorySidebar
    from assistant.ui.widgets.prompt_input import PromptInput
    from assistant.ui.widgets.status_bar import StatusBar


class TranscriptActions(Screen[None]):
    """Mixed into ChatScreen; thread workers read history and post results back as messages."""

    engine: Engine | None
    conversation_id: str | None
    model: ModelRef | None
    system: str | None
    temperature: float | None
    private: bool
    current: AnswerView | None
    editing: int | None

    if TYPE_CHECKING:  # provided by ChatScreen
        @property
        def log_view(self) -> ChatLog: ...

        @property
        def prompt(self) -> PromptInput: ...

        @property
        def sidebar(self) -> HistorySidebar: ...

        @property
        def status(self) -> StatusBar: ...

        @property
        def host(self) -> AssistantApp: ...

        @property
        def busy(self) -> bool: ...

        def _request(self, prompt: str, *, regenerate: bool = False, edit_of: int | None = None) -> ChatRequest: ...

        def _ask(self, request: ChatRequest) -> None: ...

        def action_regenerate(self) -> None: ...

        def use_model(self, model: ModelRef | None, *, chosen: bool = False) -> None: ...

    # copying and selecting ----------------------------------------------------------------------
    def _target_answer(self) -> AnswerView | None:
        focused = self.focused
        answers = self.log_view.answers()
        if focused in answers:
            return focused
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

    def action_select_text(self) -> None:
        """The whole conversation as text, to select any part of it (a focused message alone: press s on it)."""
        from assistant.ui.screens.text_view import TextViewScreen

        parts = [f"{'You' if item.role == 'user' else 'Answer'}:\n{item.text}" for item in self.log_view.items()]
        if not parts:
            self.notify("The conversation is empty; there is nothing to select yet.", severity="warning")
            return
        self.app.push_screen(TextViewScreen("The conversation", "\n\n".join(parts)))

    # focused messages ---------------------------------------------------------------------------
    def item_for(self, message_id: int) -> Widget | None:
        return next((i for i in self.log_view.items() if i.message_id == message_id), None)

    def on_item_action(self, message: msg.ItemAction) -> None:
        item = message.item
        assert isinstance(item, TranscriptItem)
        items: list[Widget] = list(self.log_view.items())
        action = message.action
        if action in ("previous", "next"):
            index = items.index(item) + (1 if action == "next" else -1) if item in items else -1
            target = items[index] if 0 <= index < len(items) else self.prompt
            target.focus()
            target.scroll_visible(animate=False)
        elif action == "prompt":
            self.prompt.focus()
        elif action == "copy":
            self.app.copy_to_clipboard(item.text)
            self.notify(f"Copied the {'question' if item.role == 'user' else 'answer'} ({len(item.text):,} characters).")
        elif action == "select":
            from assistant.ui.screens.text_view import TextViewScreen

            self.app.push_screen(TextViewScreen("Your question" if item.role == "user" else "The answer", item.text))
        elif action in ("older", "newer"):
            self._switch(item, -1 if action == "older" else 1)
        elif action == "edit":
            self.start_edit(item)
        elif action == "regenerate":
            self._regenerate(item)

    def _stored(self, item: TranscriptItem) -> bool:
        if self.busy:
            self.notify("An answer is still arriving; wait for it (or press Esc) first.", severity="warning")
            return False
        if item.message_id is None or self.conversation_id is None or self.engine is None:
            self.notify("This message was not saved, so it has no alternatives to go to.", severity="warning")
            return False
        return True

    def _switch(self, item: TranscriptItem, step: int) -> None:
        if len(item.alternatives) < 2:
            self.notify("There is no other version here: edit a question (e) or regenerate an answer (r) to make one.")
            return
        if not self._stored(item):
            return
        index = item.alternatives.index(item.message_id) + step if item.message_id in item.alternatives else 0
        if not 0 <= index < len(item.alternatives):
            self.notify(f"This is the {'first' if step < 0 else 'last'} of {len(item.alternatives)} versions.")
            return
        assert self.conversation_id is not None
        self.switch_branch(self.conversation_id, item.alternatives[index])

    def start_edit(self, item: TranscriptItem) -> None:
        if not self._stored(item):
            return
        self.editing = item.message_id
        self.prompt.load_text(item.text)
        self.prompt.move_cursor(self.prompt.document.end)
        self.prompt.add_class("-editing")
        self.prompt.border_title = "Editing an earlier question · Enter sends it as a new branch · Esc cancels"
        self.prompt.focus()

    def cancel_edit(self) -> None:
        if self.editing is not None:
            self.editing = None
            self.prompt.clear()
        self.prompt.remove_class("-editing")
        self.prompt.border_title = None

    def _regenerate(self, item: TranscriptItem) -> None:
        answers = self.log_view.answers()
        if answers and item is answers[-1]:
            self.action_regenerate()
            return
        question = self.item_for(item.parent_id) if item.parent_id is not None else None
        if (not self._stored(item) or not isinstance(question, TranscriptItem) or question.role != "user"
                or question.message_id is None):
            return
        # An earlier answer: its question is asked again as a new branch (the later turns stay in the old one).
        self.log_view.remove_from(question)
        self.log_view.add_user(question.text)
        assert self.engine is not None
        self._ask(self._request(question.text, edit_of=question.message_id))

    @work(thread=True, exclusive=True, exit_on_error=False, group="branch")
    def switch_branch(self, cid: str, message_id: int) -> None:
        assert self.engine is not None
        queries = self.engine.queries
        messages = queries.switch_branch(cid, message_id)
        self.post_message(msg.BranchShown(cid, messages, queries.answers(cid), queries.tool_calls(cid),
                                          focus=message_id))

    @work(thread=True, exclusive=True, exit_on_error=False, group="branch-sync")
    def sync_branch(self, cid: str) -> None:
        assert self.engine is not None
        self.post_message(msg.BranchShown(cid, self.engine.queries.messages(cid), redraw=False))

    def on_branch_shown(self, message: msg.BranchShown) -> None:
        if message.conversation_id != self.conversation_id or self.busy:
            return
        log = self.log_view
        if message.redraw:
            assert self.engine is not None
            log.show_conversation(message.messages, message.answers, self.engine.is_local, message.tool_calls)
            if message.focus is not None:
                self.call_after_refresh(self._focus_message, message.focus)
            return
        # The turn just shown is stored now: its widgets learn their ids (for edits and alternatives).
        stored = iter(message.messages)
        pending = next(stored, None)
        for item in log.items():
            if pending is not None and pending.role == item.role:
                item.stored_as(pending.id, pending.parent_id, pending.siblings)
                pending = next(stored, None)

    def _focus_message(self, message_id: int) -> None:
        item = self.item_for(message_id)
        if item is not None:
            item.focus()
            item.scroll_visible(animate=False)

    def turn_ended(self) -> None:
        self.load_history(self.query_one("#history-search", Input).value.strip())
        if self.conversation_id is not None and self.engine is not None:
            self.sync_branch(self.conversation_id)

    # history ------------------------------------------------------------------------------------
    def on_search_requested(self, message: msg.SearchRequested) -> None:
        self.load_history(message.query)

    @work(thread=True, exclusive=True, exit_on_error=False, group="history")
    def load_history(self, query: str) -> None:
        if self.engine is None:
            return
        if query:
            time.sleep(0.15)  # typing replaces this worker, so search waits for a pause
            if get_current_worker().is_cancelled:
                return
            self.post_message(msg.ConversationsLoaded([], query, self.engine.queries.search(query, limit=100)))
        else:
            self.post_message(msg.ConversationsLoaded(self.engine.queries.conversations(limit=200)))

    def on_conversations_loaded(self, message: msg.ConversationsLoaded) -> None:
        self.sidebar.show(message.conversations, message.hits, message.query)

    def on_conversation_selected(self, message: msg.ConversationSelected) -> None:
        self.open_conversation(message.conversation_id, message.message_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="conversation")
    def open_conversation(self, conversation_id: str, message_id: int | None = None) -> None:
        assert self.engine is not None
        queries = self.engine.queries
        conv = queries.conversation(conversation_id)
        # A search hit in another branch opens that branch.
        messages = queries.switch_branch(conv.id, message_id) if message_id else queries.messages(conv.id)
        self.post_message(msg.ConversationOpened(conv, messages, queries.answers(conv.id), queries.tool_calls(conv.id)))

    def on_conversation_opened(self, message: msg.ConversationOpened) -> None:
        if self.busy:
            self.workers.cancel_group(self, "chat")
        self.cancel_edit()
        conv = message.conversation
        self.conversation_id, self.system, self.temperature, self.current = conv.id, conv.system, conv.temperature, None
        self.private = conv.private
        self.host.show_team()
        self.sub_title = for_terminal(conv.title)
        self.use_model(self._model_of(conv.model))
        assert self.engine is not None
        self.log_view.show_conversation(message.messages, message.answers, self.engine.is_local, message.tool_calls)
        self.set_class(False, "-sidebar-open")  # over a narrow screen the sidebar gives the conversation room
        self.prompt.focus()

    def _model_of(self, name: str | None) -> ModelRef | None:
        """The model a conversation was asking (None: the router chose); one that no longer exists is dropped."""
        if not name or self.engine is None:
            return None
        try:
            return self.engine.parse_model(name)
        except AssistantError:
            return None

    def selected_conversation(self) -> str | None:
        return self.sidebar.highlighted_id or self.conversation_id
