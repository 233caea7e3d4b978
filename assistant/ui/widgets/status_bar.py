"""One line at the bottom: the model that answers, local and cloud health, what this session spent and saved."""

from __future__ import annotations

from dataclasses import dataclass

from textual.reactive import reactive
from textual.widgets import Static

from assistant.core.money import usd
from assistant.core.textsafe import for_terminal

SEPARATOR = " │ "


@dataclass(frozen=True)
class Segment:
    """A part of the line: `short` replaces `text` when the line is too wide; the lowest `keep` goes first."""

    text: str
    short: str
    keep: int  # higher stays longer


def fit(segments: list[Segment], width: int) -> str:
    """The segments in order, shortened then dropped (least kept first) until the line fits `width`."""
    chosen = {i: s.text for i, s in enumerate(segments) if s.text}

    def line() -> str:
        return " " + SEPARATOR.join(chosen[i] for i in sorted(chosen))

    by_keep = sorted(chosen, key=lambda i: segments[i].keep)
    for i in by_keep:
        if len(line()) <= width:
            return line()
        chosen[i] = segments[i].short or chosen[i]
    for i in by_keep[:-1]:
        if len(line()) <= width:
            break
        del chosen[i]
    text = line()
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


class StatusBar(Static):
    """Attributes are set by the app ("attributes down"); the line is redrawn only when its text changes.

    The first frame shows last-known health; probes that confirm it must not cost a repaint. Add a part by adding a
    reactive, its watcher and a Segment in `segments()`.
    """

    model: reactive[str] = reactive("auto", repaint=False)
    engine: reactive[str] = reactive("starting…", repaint=False)  # shown only when it failed to start
    local: reactive[str] = reactive("…", repaint=False)
    providers: reactive[str] = reactive("…", repaint=False)
    spend: reactive[float] = reactive(0.0, repaint=False)
    saved: reactive[float] = reactive(0.0, repaint=False)
    team: reactive[str] = reactive("", repaint=False)  # the team cache's state; "" hides it (none set up)

    _shown: str | None = None

    def segments(self) -> list[Segment]:
        money = f"{usd(self.spend)} spent · {usd(self.saved)} saved"
        # Model names and provider details can come from a server (Ollama's model list, its error text).
        model, local, providers, team = (for_terminal(text) for text in
                                         (self.model, self.local, self.providers, self.team))
        short_model = model.split(" → ")[-1]
        parts = [Segment(f"model {model}", short_model, 5)]
        if self.engine == "unavailable":
            parts.append(Segment("engine unavailable", "engine down", 6))
        return parts + [Segment(local, local.replace(" · ", " "), 2),
                        Segment(f"cloud {providers}", f"cloud {providers}", 1),
                        Segment(f"team {team}" if team else "", f"team {team.split()[0]}" if team else "", 3),
                        Segment(f"session {money}", money, 4)]

    def line(self, width: int | None = None) -> str:
        return fit(self.segments(), width or self.size.width or 200)

    def render(self) -> str:
        self._shown = self.line()
        return self._shown

    def _changed(self) -> None:
        if self.line() != self._shown:
            self.refresh()

    def on_resize(self) -> None:
        self._changed()

    watch_model = watch_engine = watch_local = watch_providers = watch_spend = watch_saved = watch_team = _changed
