"""A pull's progress summed over its layers: bytes so far, speed over the last seconds, and time left."""

from __future__ import annotations

import time
from collections import deque

from assistant.core.local_models import PullEvent, PullStatus

# Speed is measured over this many seconds: long enough to smooth bursts, short enough to follow a slowdown.
WINDOW_SECONDS = 5.0


class PullTracker:
    """Feeds on the server's per-layer lines; each update is the whole pull as one status."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.layers: dict[str, tuple[int, int]] = {}  # digest -> (completed, total)
        # What each layer had when first seen: a layer already on disk arrives complete, and is not speed.
        self._start: dict[str, int] = {}
        self.phase = "starting"
        self._samples: deque[tuple[float, int]] = deque()

    def update(self, event: PullEvent, now: float | None = None) -> PullStatus:
        now = time.monotonic() if now is None else now
        phase = "downloading" if event.digest and event.total else event.status
        changed = phase != self.phase
        if event.digest and event.total:
            done_bytes = min(event.completed or 0, event.total)
            if event.digest not in self.layers:
                changed = True
                self._start[event.digest] = done_bytes
            self.layers[event.digest] = (done_bytes, event.total)
        self.phase = phase
        completed = sum(c for c, _ in self.layers.values())
        total = sum(t for _, t in self.layers.values())
        fetched = completed - sum(self._start.values())
        self._samples.append((now, fetched))
        while len(self._samples) > 2 and now - self._samples[0][0] > WINDOW_SECONDS:
            self._samples.popleft()
        speed = eta = None
        first_time, first_bytes = self._samples[0]
        if now - first_time >= 0.5 and fetched > first_bytes:
            speed = (fetched - first_bytes) / (now - first_time)
            eta = max(0.0, total - completed) / speed
        done = event.status == "success"
        return PullStatus(self.model, phase, completed, total, speed, eta, len(self.layers), done, changed or done)
