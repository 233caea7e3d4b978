"""The sign of life before an answer's first token: a spinner, the seconds so far, and what it is waiting for."""

from __future__ import annotations

import time

from textual.timer import Timer
from textual.widgets import Static

from assistant.core.textsafe import for_terminal

FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
TICK_SECONDS = 0.1


class WaitLine(Static):
    """Ticks only while shown: stopped (and hidden) by the first text or the end of the answer."""

    def __init__(self, what: str = "choosing a model…") -> None:
        super().__init__("", classes="wait-line", markup=False)
        self.what = what
        self.detail = ""  # why it waits, e.g. the error a retry answers
        self._started = time.monotonic()
        self._frame = 0
        self._timer: Timer | None = None

    def on_mount(self) -> None:
        self._timer = self.set_interval(TICK_SECONDS, self._tick)
        self._tick()

    def waiting_for(self, what: str | None = None, detail: str | None = None) -> None:
        if what is not None:
            self.what = what
        if detail is not None:
            self.detail = detail
        if self.is_mounted:
            self._tick()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self._started

    def line(self) -> str:
        text = f"{FRAMES[self._frame % len(FRAMES)]} {self.elapsed:.1f} s · {self.what}"
        # What it waits for names a model, and a retry's reason quotes a server: shown, never obeyed.
        return for_terminal(text + (f"\n  {self.detail}" if self.detail else ""))

    def _tick(self) -> None:
        self._frame += 1
        self.update(self.line())

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self.display = False
