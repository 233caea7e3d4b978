"""One line at the bottom: active model, Ollama and provider health, session spend."""

from __future__ import annotations

from textual.reactive import reactive
from textual.widgets import Static

from assistant.ui.widgets.answer_view import money


class StatusBar(Static):
    """Attributes are set by the app ("attributes down"); the line re-renders on change."""

    model: reactive[str] = reactive("auto (router)")
    engine: reactive[str] = reactive("starting…")
    ollama: reactive[str] = reactive("…")
    providers: reactive[str] = reactive("…")
    spend: reactive[float] = reactive(0.0)
    saved: reactive[float] = reactive(0.0)

    def render(self) -> str:
        return (f" model {self.model} │ engine {self.engine} │ ollama {self.ollama} │ cloud {self.providers} "
                f"│ session {money(self.spend)} spent, {money(self.saved)} saved")
