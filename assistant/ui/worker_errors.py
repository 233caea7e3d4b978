"""Screens forward their workers' state changes to the app's one failure handler (StateChanged does not bubble)."""

from __future__ import annotations

from textual.worker import Worker, WorkerState


class ForwardWorkerFailures:
    """Mixed into every screen that runs workers, so no worker on any screen fails silently."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.app.worker_failed(event.worker)  # type: ignore[attr-defined]
