"""Conversation actions of the chat screen: model, system prompt and temperature, rename, delete, export."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import work

from assistant.ui.messages import Done


class ConversationActions:
    """Mixed into ChatScreen; each action opens a dialog, then a worker does the work and posts Done."""

    engine: Any
    conversation_id: str | None

    def action_pick_model(self) -> None:
        from assistant.ui.screens.model_picker import AUTO, ModelPickerScreen

        if self._need_engine():
            return

        def chosen(result: str | None) -> None:
            if result is None:
                return
            self.model = None if result == AUTO else self.engine.parse_model(result)
            self.status.model = "auto (router)" if self.model is None else str(self.model)
            self.app.remember(model=result)  # type: ignore[attr-defined]
            self.notify(f"Model: {self.status.model}")

        self.app.push_screen(ModelPickerScreen(self.engine, None if self.model is None else str(self.model)), chosen)

    def action_conversation_settings(self) -> None:
        from assistant.ui.screens.conversation_settings import ConversationSettingsScreen

        def chosen(result: Any) -> None:
            if result is None:
                return
            self.system, self.temperature = result.system, result.temperature
            if self.conversation_id and self.engine is not None:
                self.save_settings(self.conversation_id, result.system, result.temperature)
            temp = "model default" if result.temperature is None else f"{result.temperature:g}"
            self.notify(f"System prompt {'set' if result.system else 'cleared'}; temperature {temp}.")

        self.app.push_screen(ConversationSettingsScreen(self.system, self.temperature), chosen)

    @work(exclusive=True, exit_on_error=False, group="history-edit")
    async def save_settings(self, conversation_id: str, system: str | None, temperature: float | None) -> None:
        self.engine.history.update_conversation(conversation_id, system=system, temperature=temperature)

    def _need_engine(self) -> bool:
        if self.engine is None:
            self.notify("Still starting up; try again in a moment.", severity="warning")
            return True
        return False

    def _need_conversation(self) -> tuple[str, str] | None:
        """The conversation an action applies to (highlighted in the sidebar, else the open one) and its title."""
        if self._need_engine():
            return None
        cid = self.selected_conversation()
        if cid is None:
            self.notify("Pick a conversation in the history sidebar (ctrl+b) first.", severity="warning")
            return None
        return cid, self.engine.history.get_conversation(cid).title

    def action_rename(self) -> None:
        from assistant.ui.screens.text_prompt import TextPromptScreen

        target = self._need_conversation()
        if target is None:
            return
        cid, title = target

        def chosen(result: str | None) -> None:
            if result is not None:
                self.history_edit("rename", cid, result)

        self.app.push_screen(TextPromptScreen("New title:", title), chosen)

    def action_delete(self) -> None:
        from assistant.ui.screens.confirm import ConfirmScreen

        target = self._need_conversation()
        if target is None:
            return
        cid, title = target

        def chosen(yes: bool | None) -> None:
            if yes:
                self.history_edit("delete", cid, "")
                if cid == self.conversation_id:
                    self.action_new_conversation()

        self.app.push_screen(ConfirmScreen(f"Delete '{title}' and all its messages?"), chosen)

    def action_export(self) -> None:
        from assistant.ui.screens.export import ExportScreen

        target = self._need_conversation()
        if target is None:
            return
        cid, title = target

        def chosen(result: Any) -> None:
            if result is not None:
                self.export_conversation(cid, result.fmt, result.path)

        self.app.push_screen(ExportScreen(title, Path.cwd()), chosen)

    @work(exclusive=True, exit_on_error=False, group="history-edit")
    async def history_edit(self, action: str, cid: str, value: str) -> None:
        history = self.engine.history
        if action == "rename":
            history.rename(cid, value)
            self.post_message(Done(f"Renamed to '{' '.join(value.split())}'.", refresh_history=True))
        else:
            history.delete_conversation(cid)
            self.post_message(Done("Conversation deleted.", refresh_history=True))

    @work(exclusive=True, exit_on_error=False, group="export")
    async def export_conversation(self, cid: str, fmt: str, path: Path) -> None:
        from assistant.errors import StorageError

        text = self.engine.history.export(cid, fmt)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text + "\n", encoding="utf-8")
        except OSError as exc:
            raise StorageError(f"Cannot write {path} ({exc.strerror or exc.__class__.__name__}); choose another folder.") from exc
        self.post_message(Done(f"Exported to {path}"))

    def on_done(self, message: Done) -> None:
        self.notify(message.text)
        if message.refresh_history:
            self.load_history("")
