"""Conversation actions of the chat screen: model, system prompt and temperature, rename, delete, export."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.screen import Screen

from assistant.core.errors import StorageError
from assistant.core.textsafe import for_terminal
from assistant.ui.messages import Done

if TYPE_CHECKING:
    from assistant.core.types import ModelRef
    from assistant.engine.engine import Engine
    from assistant.ui.app import AssistantApp
    from assistant.ui.screens.conversation_settings import ConversationSettings
    from assistant.ui.screens.export import ExportChoice
    from assistant.ui.widgets.history_sidebar import HistorySidebar
    from assistant.ui.widgets.status_bar import StatusBar


class ConversationActions(Screen[None]):
    """The chat screen's dialogs; each opens a dialog, then a thread worker does the work and posts Done."""

    engine: Engine | None
    conversation_id: str | None
    model: ModelRef | None
    system: str | None
    temperature: float | None
    private: bool

    if TYPE_CHECKING:  # provided by ChatScreen
        @property
        def status(self) -> StatusBar: ...

        @property
        def host(self) -> AssistantApp: ...

        @property
        def sidebar(self) -> HistorySidebar: ...

        def selected_conversation(self) -> str | None: ...

        def load_history(self, query: str) -> object: ...

        def action_new_conversation(self) -> None: ...

        def use_model(self, model: ModelRef | None, *, chosen: bool = False) -> None: ...

    def action_pick_model(self) -> None:
        from assistant.ui.screens.model_picker import AUTO, ModelPickerScreen

        engine = self._engine()
        if engine is None:
            return

        def chosen(result: str | None) -> None:
            if result is None:
                return
            self.use_model(None if result == AUTO else engine.parse_model(result), chosen=True)

        self.app.push_screen(ModelPickerScreen(engine, None if self.model is None else str(self.model)), chosen)

    def action_conversation_settings(self) -> None:
        from assistant.ui.screens.conversation_settings import ConversationSettingsScreen

        def chosen(result: ConversationSettings | None) -> None:
            if result is None:
                return
            self.system, self.temperature, self.private = result.system, result.temperature, result.private
            if self.conversation_id and self.engine is not None:
                self.save_settings(self.conversation_id, result)
            self.host.show_team()
            temp = "model default" if result.temperature is None else f"{result.temperature:g}"
            private = "; kept out of the team cache" if result.private else ""
            self.notify(f"System prompt {'set' if result.system else 'cleared'}; temperature {temp}{private}.")

        self.app.push_screen(ConversationSettingsScreen(self.system, self.temperature, self.private), chosen)

    @work(thread=True, exclusive=True, exit_on_error=False, group="conversation-model")
    def save_model(self, conversation_id: str, model: str | None) -> None:
        assert self.engine is not None
        self.engine.queries.save_model(conversation_id, model)

    @work(thread=True, exclusive=True, exit_on_error=False, group="history-edit")
    def save_settings(self, conversation_id: str, chosen: ConversationSettings) -> None:
        assert self.engine is not None
        self.engine.queries.save_settings(conversation_id, chosen.system, chosen.temperature)
        self.engine.queries.set_private(conversation_id, chosen.private)

    def _engine(self) -> Engine | None:
        if self.engine is None:
            self.notify("Still starting up; try again in a moment.", severity="warning")
        return self.engine

    def _target(self) -> str | None:
        """The conversation an action applies to: highlighted in the sidebar, else the open one."""
        if self._engine() is None:
            return None
        cid = self.selected_conversation()
        if cid is None:
            self.notify("Pick a conversation in the history sidebar (ctrl+b) first.", severity="warning")
        return cid

    def action_rename(self) -> None:
        cid = self._target()
        if cid is not None:
            self.with_title(cid, "rename")

    def action_delete(self) -> None:
        cid = self._target()
        if cid is not None:
            self.with_title(cid, "delete")

    def action_export(self) -> None:
        cid = self._target()
        if cid is not None:
            self.with_title(cid, "export")

    @work(thread=True, exclusive=True, exit_on_error=False, group="history-title")
    def with_title(self, cid: str, action: str) -> None:
        """Look the title up off the event loop, then open the action's dialog."""
        assert self.engine is not None
        title = self.engine.queries.conversation(cid).title
        self.app.call_from_thread(self._dialog, cid, title, action)

    def _dialog(self, cid: str, title: str, action: str) -> None:
        from assistant.ui.screens.confirm import ConfirmScreen
        from assistant.ui.screens.export import ExportScreen
        from assistant.ui.screens.text_prompt import TextPromptScreen

        if action == "rename":
            def renamed(result: str | None) -> None:
                if result is not None:
                    self.history_edit("rename", cid, result)
            self.app.push_screen(TextPromptScreen("New title:", title), renamed)
        elif action == "delete":
            def deleted(yes: bool | None) -> None:
                if yes:
                    self.history_edit("delete", cid, "")
                    if cid == self.conversation_id:
                        self.action_new_conversation()
            self.app.push_screen(ConfirmScreen(f"Delete '{title}' and all its messages?"), deleted)
        else:
            def exported(result: ExportChoice | None) -> None:
                if result is not None:
                    self.export_conversation(cid, result.fmt, result.path)
            self.app.push_screen(ExportScreen(title, Path.cwd()), exported)

    @work(thread=True, exclusive=True, exit_on_error=False, group="history-edit")
    def history_edit(self, action: str, cid: str, value: str) -> None:
        assert self.engine is not None
        if action == "rename":
            self.engine.queries.rename(cid, value)
            title = " ".join(value.split())
            if cid == self.conversation_id:
                self.app.call_from_thread(setattr, self, "sub_title", for_terminal(title))
            self.post_message(Done(f"Renamed to '{title}'.", refresh_history=True))
        else:
            self.engine.queries.delete(cid)
            self.post_message(Done("Conversation deleted.", refresh_history=True))

    @work(thread=True, exclusive=True, exit_on_error=False, group="export")
    def export_conversation(self, cid: str, fmt: str, path: Path) -> None:
        assert self.engine is not None
        text = self.engine.queries.export(cid, fmt)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text + "\n", encoding="utf-8")
        except OSError as exc:
            raise StorageError(f"Cannot write {path} ({exc.strerror or exc.__class__.__name__}); choose another folder.") from exc
        self.post_message(Done(f"Exported to {path}"))

    def on_done(self, message: Done) -> None:
        self.notify(message.text)
        if message.refresh_history:
            self.sidebar.reset_search()  # its hits were of the old title (or the deleted conversation)
            self.load_history("")
