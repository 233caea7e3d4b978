"""Screens forward their workers' failures to the app's one failure handler (StateChanged does not bubble)."""

from __future__ import annotations

from typing import cast

from textual.widget import Widget
from textual.worker import Worker, WorkerState

from assistant.ui.messages import WorkerFailed


class ForwardWorkerFailures:
    """Mixed into every screen that runs workers, so no worker on any screen fails silently."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            cast(Widget, self).app.post_message(WorkerFailed(event.worker))
