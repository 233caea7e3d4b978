"""The models on this machine: each with its size and age, what is loaded and until when; pull (it keeps running
while you chat), stop a pull, unload, remove (asks first), or use one for the conversation."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Static

from assistant.core.local_models import InstalledModel, LoadedModel
from assistant.core.textsafe import for_terminal
from assistant.core.units import ago, duration, size_text
from assistant.ui.widgets.pull_bar import pull_line
from assistant.ui.worker_errors import ForwardWorkerFailures

if TYPE_CHECKING:
    from assistant.engine.engine import Engine
    from assistant.ui.app import AssistantApp

PULLS_SECONDS = 0.25


@dataclass
class LocalModelsLoaded(Message):
    installed: list[InstalledModel]
    loaded: list[LoadedModel]
    problem: str = ""  # why the list could not be read (Ollama not running)


def loaded_text(found: LoadedModel | None, now: float) -> str:
    if found is None:
        return ""
    until = "kept loaded" if found.until is None else f"for {duration(max(0.0, found.until - now))}"
    return f"{size_text(found.size)} in memory, {until}"


class ModelsScreen(ForwardWorkerFailures, ModalScreen[str | None]):
    """Dismisses with "provider:model" to use it, or None."""

    CSS_PATH = "models.tcss"
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("p", "pull", "Pull"),
        Binding("s", "stop_pull", "Stop pull"),
        Binding("u", "unload", "Unload"),
        Binding("d,delete", "remove", "Remove"),
        Binding("r", "reload", "Reload"),
    ]

    def __init__(self, engine: Engine) -> None:
        super().__init__(classes="dialog")
        self.engine = engine
        self.installed: list[InstalledModel] = []
        self.loaded = False  # the first listing arrived

    @property
    def host(self) -> AssistantApp:
        return cast("AssistantApp", self.app)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box wide", id="models-box"):
            yield Label("Models on this machine", id="models-title", markup=False)
            yield Static("Looking…", id="models-problem", markup=False)
            yield DataTable(id="local-models", cursor_type="row", zebra_stripes=True)
            yield Static("", id="models-pulls", markup=False)
            yield Static("Enter uses the model · p pull · s stop a pull · u unload · d remove · r reload · Esc close",
                         classes="hint", markup=False)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Model", "Size", "Pulled", "Details", "Loaded")
        table.focus()
        self.show_pulls()
        self.set_interval(PULLS_SECONDS, self.show_pulls)
        self.action_reload()

    # reading ----------------------------------------------------------------------------------
    def action_reload(self) -> None:
        self.load()

    @work(exclusive=True, exit_on_error=False, group="local-models")
    async def load(self) -> None:
        from assistant.core.errors import AssistantError

        local = self.engine.local_models
        try:
            installed = await local.installed()
            loaded = await local.loaded()
        except AssistantError as exc:
            self.post_message(LocalModelsLoaded([], [], exc.message))
            return
        self.post_message(LocalModelsLoaded(installed, loaded))

    def on_local_models_loaded(self, message: LocalModelsLoaded) -> None:
        self.installed, self.loaded = message.installed, True
        problem = self.query_one("#models-problem", Static)
        problem.display = bool(message.problem) or not message.installed
        problem.update(message.problem or "Nothing pulled yet: press p and type a name, e.g. llama3.2 or llava.")
        table = self.query_one(DataTable)
        table.clear()
        now = time.time()
        loaded = {m.name: m for m in message.loaded}
        for m in message.installed:
            facts = m.facts
            details = " ".join(x for x in (facts.family, facts.parameters, facts.quantization) if x)
            age = ago(now - m.modified_at) if m.modified_at else ""
            table.add_row(for_terminal(m.name), size_text(m.size), age, for_terminal(details),
                          loaded_text(loaded.get(m.name), now), key=m.name)

    def show_pulls(self) -> None:
        pulls = list(self.host.pulls.values())
        box = self.query_one("#models-pulls", Static)
        box.display = bool(pulls)
        box.update("\n".join(pull_line(s) for s in pulls))

    def pull_finished(self, model: str) -> None:
        """The app says a pull ended: what is pulled may have changed."""
        self.show_pulls()
        self.action_reload()

    # acting -----------------------------------------------------------------------------------
    def _selected(self) -> InstalledModel | None:
        table = self.query_one(DataTable)
        if not self.installed or table.cursor_row < 0 or table.cursor_row >= len(self.installed):
            return None
        return self.installed[table.cursor_row]

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        spec = self.engine.local_models.spec
        chosen = self._selected()
        if spec is not None and chosen is not None:
            self.dismiss(f"{spec.name}:{chosen.name}")

    def action_pull(self) -> None:
        from assistant.ui.screens.text_prompt import TextPromptScreen

        def named(text: str | None) -> None:
            if text and text.strip():
                self.host.start_pull(text.strip())
                self.show_pulls()

        self.app.push_screen(TextPromptScreen("Model to pull, e.g. llama3.2, llava or qwen2.5:7b "
                                              "(names at ollama.com/library):"), named)

    def action_stop_pull(self) -> None:
        chosen = self._selected()
        pulls = list(self.host.pulls)
        model = chosen.name if chosen is not None and chosen.name in pulls else (pulls[-1] if pulls else None)
        if model is None or not self.host.cancel_pull(model):
            self.notify("No pull is running.", severity="warning")

    def action_unload(self) -> None:
        chosen = self._selected()
        if chosen is not None:
            self.change("unload", chosen.name)

    def action_remove(self) -> None:
        from assistant.ui.screens.confirm import ConfirmScreen

        chosen = self._selected()
        if chosen is None:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.change("remove", chosen.name)

        self.app.push_screen(ConfirmScreen(f"Remove {for_terminal(chosen.name)} ({size_text(chosen.size)})? "
                                           "Pulling it again downloads it all."), answered)

    @work(exclusive=True, exit_on_error=False, group="local-model-change")
    async def change(self, action: str, model: str) -> None:
        local = self.engine.local_models
        await (local.remove(model) if action == "remove" else local.unload(model))
        self.notify(f"{'Removed' if action == 'remove' else 'Unloaded'} {for_terminal(model)}.")
        self.load()

    def action_close(self) -> None:
        self.dismiss(None)
