"""`assistant models pull`: one progress line summed over the model's layers (bytes, speed, time left) on a
terminal, plain lines in a pipe; ctrl+c stops cleanly and says what Ollama may still be doing."""

from __future__ import annotations

import asyncio
import shutil
import sys
import time
from contextlib import aclosing
from typing import TextIO

from assistant.core.local_models import PullStatus, pull_stopped
from assistant.core.textsafe import for_terminal
from assistant.core.units import bar, duration, size_text

REDRAW_SECONDS = 0.1
BAR_CELLS = 24


class PullView:
    """Redraws one line on a terminal (at most ten times a second); prints a line per step in a pipe."""

    def __init__(self, model: str, out: TextIO) -> None:
        self.model = for_terminal(model)
        self.out = out
        self.tty = out.isatty()
        self.started = time.monotonic()
        self._drawn = 0.0
        self._quarter = 0
        self.last: PullStatus | None = None

    def show(self, status: PullStatus) -> None:
        self.last = status
        if self.tty:
            now = time.monotonic()
            if status.changed or now - self._drawn >= REDRAW_SECONDS:
                self._drawn = now
                self._line(status)
            return
        if status.changed and not status.done:
            what = f"downloading layer {status.layers} ({size_text(status.total)} so far)" \
                if status.phase == "downloading" else status.phase
            self.out.write(f"{self.model}: {what}\n")
        quarter = int((status.fraction or 0) * 4)
        if status.phase == "downloading" and 0 < quarter < 4 and quarter > self._quarter:
            self._quarter = quarter
            self.out.write(f"{self.model}: {status.progress_text()}\n")
        self.out.flush()

    def _line(self, status: PullStatus) -> None:
        width = shutil.get_terminal_size((100, 24)).columns
        drawn = f"{self.model}  " + (f"{bar(status.fraction, BAR_CELLS)}  " if status.fraction is not None else "")
        text = (drawn + status.progress_text())[: max(20, width - 1)]
        self.out.write(f"\r\x1b[K{text}")
        self.out.flush()

    def finish(self) -> None:
        total = self.last.total if self.last else 0
        took = duration(time.monotonic() - self.started)
        self.clear()
        self.out.write(f"Pulled {self.model}" + (f" ({size_text(total)})" if total else "") + f" in {took}.\n")
        self.out.flush()

    def clear(self) -> None:
        if self.tty:
            self.out.write("\r\x1b[K")
            self.out.flush()


def pull(name: str, out: TextIO | None = None, err: TextIO | None = None) -> int:
    from assistant.compose import build_engine, load

    out, err = out or sys.stdout, err or sys.stderr
    engine = build_engine(load())
    for note in engine.notices:
        print(f"assistant: {for_terminal(note)}", file=err)
    view = PullView(name, out)

    async def go() -> int:
        try:
            view.model = for_terminal(engine.local_models.name(name))
            async with aclosing(engine.local_models.pull(name)) as statuses:
                async for status in statuses:
                    view.show(status)
            view.finish()
            return 0
        except BaseException:
            view.clear()
            raise
        finally:
            await engine.aclose()

    try:
        return asyncio.run(go())
    except KeyboardInterrupt:
        print(f"assistant: {pull_stopped(for_terminal(view.model))}", file=err)
        return 130
