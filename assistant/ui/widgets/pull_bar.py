"""A line above the status bar while models are being pulled: a bar, bytes, speed and time left for each."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Static

from assistant.core.textsafe import for_terminal
from assistant.core.units import bar

if TYPE_CHECKING:
    from assistant.core.local_models import PullStatus

BAR_CELLS = 16


def pull_line(status: PullStatus) -> str:
    """pulling llava:7b ████████░░░░░░░░  42%  1.7 GB of 4.1 GB · 38.2 MB/s · 1 min left"""
    name = for_terminal(status.model)
    if status.fraction is None:
        return f"pulling {name}: {status.progress_text()}"
    return f"pulling {name} {bar(status.fraction, BAR_CELLS)} {status.progress_text()}"


class PullBar(Static):
    """Hidden when nothing is being pulled; F7 opens the models screen, where a pull can be stopped."""

    def __init__(self) -> None:
        super().__init__("", id="pulls", markup=False)

    def show(self, statuses: list[PullStatus]) -> None:
        self.display = bool(statuses)
        if statuses:
            self.update("\n".join(pull_line(s) for s in statuses) + " · F7")
