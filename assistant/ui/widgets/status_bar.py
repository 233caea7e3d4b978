"""One line at the bottom: active model, Ollama and provider health, session spend."""

from __future__ import annotations

from textual.reactive import reactive
from textual.widgets import Static

from assistant.core.money import usd


class StatusBar(Static):
    """Attributes are set by the app ("attributes down"); the line is redrawn only when its text changes.

    The first frame shows last-known health; probes that confirm it must not cost a repaint.
    """

    model: reactive[str] = reactive("auto (router)", repaint=False)
    engine: reactive[str] = reactive("starting…", repaint=False)  # shown only when it failed to start
    local: reactive[str] = reactive("…", repaint=False)
    providers: reactive[str] = reactive("…", repaint=False)
    spend: reactive[float] = reactive(0.0, repaint=False)
    saved: reactive[float] = reactive(0.0, repaint=False)
    team: reactive[str] = reactive("", repaint=False)  # the team cache's state; "" hides it (none set up)

    _shown: str | None = None

    def line(self) -> str:
        engine = f" engine {self.engine} │" if self.engine == "unavailable" else ""
        team = f" │ team {self.team}" if self.team else ""
        return (f" model {self.model} │{engine} {self.local} │ cloud {self.providers}{team} "
                f"│ session {usd(self.spend)} spent, {usd(self.saved)} saved")

    def render(self) -> str:
        self._shown = self.line()
        return self._shown

    def _changed(self) -> None:
        if self.line() != self._shown:
            self.refresh()

    watch_model = watch_engine = watch_local = watch_providers = watch_spend = watch_saved = watch_team = _changed
