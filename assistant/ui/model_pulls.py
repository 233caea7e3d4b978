"""Pulls that run in the app, not in a screen: they keep going while you chat (a bar above the status line shows
them) and while the models screen is closed; a model asked for but not pulled is offered for pulling."""

from __future__ import annotations

from contextlib import aclosing
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from textual import work
from textual.message import Message
from textual.worker import Worker

from assistant.core.textsafe import for_terminal
from assistant.core.units import size_text

if TYPE_CHECKING:
    from assistant.core.local_models import PullStatus
    from assistant.ui.app import AssistantApp


@dataclass(eq=False, repr=False)
class PullProgress(Message):
    """A pull moved on; a newer report of the same pull replaces an unprocessed older one."""

    status: PullStatus

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, PullProgress) and message.status.model == self.status.model


@dataclass(eq=False, repr=False)
class PullEnded(Message):
    model: str
    error: str = ""  # "" when it succeeded
    stopped: bool = False  # cancelled by the user


@dataclass(eq=False, repr=False)
class PullOffered(Message):
    """A request named a model that is not pulled; the app offers to pull it."""

    model: str  # provider:model




class ModelPulls:
    """Mixed into the app: `pulls` is every pull running or just finished, by model name."""

    pulls: dict[str, PullStatus]
    _pull_workers: dict[str, Worker[None]]

    def _init_pulls(self) -> None:
        self.pulls = {}
        self._pull_workers = {}

    @property
    def _app(self) -> AssistantApp:
        return cast("AssistantApp", self)

    def start_pull(self, name: str) -> None:
        """Pull `name` (as typed: llava, llava:7b, or provider:llava) in the background; once per model."""
        app = self._app
        if app.engine is None:
            app.notify("Still starting up; try again in a moment.", severity="warning")
            return
        try:
            model = app.engine.local_models.name(name)
        except Exception as exc:  # a malformed name: its message says what is wrong
            app.notify(getattr(exc, "message", str(exc)), severity="error")
            return
        running = self._pull_workers.get(model)
        if running is not None and not running.is_finished:
            app.notify(f"{model} is already being pulled.")
            return
        from assistant.core.local_models import PullStatus

        self.pulls[model] = PullStatus(model, "starting")
        self._pull_workers[model] = self._pull(model)
        self._show_pulls()

    def cancel_pull(self, model: str) -> bool:
        worker = self._pull_workers.get(model)
        if worker is None or worker.is_finished:
            return False
        worker.cancel()
        return True

    @work(exit_on_error=False, group="pull")
    async def _pull(self, model: str) -> None:
        app = self._app
        assert app.engine is not None
        try:
            async with aclosing(app.engine.local_models.pull(model)) as statuses:
                async for status in statuses:
                    app.post_message(PullProgress(status))
        except Exception as exc:
            app.post_message(PullEnded(model, getattr(exc, "message", "") or f"{type(exc).__name__}"))
            return
        except BaseException:  # cancelled: the connection is closed by aclosing above
            app.post_message(PullEnded(model, stopped=True))
            raise
        app.post_message(PullEnded(model))

    def on_pull_progress(self, message: PullProgress) -> None:
        if message.status.model in self._pull_workers:
            self.pulls[message.status.model] = message.status
            self._show_pulls()

    def on_pull_ended(self, message: PullEnded) -> None:
        app = self._app
        last = self.pulls.pop(message.model, None)
        self._pull_workers.pop(message.model, None)
        self._show_pulls()
        name = for_terminal(message.model)
        if message.stopped:
            from assistant.core.local_models import pull_stopped
            from assistant.ui.advice import for_app

            app.notify(for_app(pull_stopped(name)), severity="warning", timeout=10)
        elif message.error:
            app.notify(message.error, title=f"Pulling {name} failed", severity="error", timeout=10)
        else:
            size = f" ({size_text(last.total)})" if last is not None and last.total else ""
            app.notify(f"Pulled {name}{size}; pick it with F2.", title="Model ready")
        app.refresh_bindings()
        for screen in app.screen_stack:  # the models screen lists what is pulled now
            refresh = getattr(screen, "pull_finished", None)
            if refresh is not None:
                refresh(message.model)

    def on_pull_offered(self, message: PullOffered) -> None:
        from assistant.ui.screens.confirm import ConfirmScreen

        app = self._app
        model = message.model.partition(":")[2]

        def answered(yes: bool | None) -> None:
            if yes:
                self.start_pull(model)

        app.push_screen(ConfirmScreen(f"{for_terminal(message.model)} is not pulled. Pull it now? It keeps "
                                      "downloading while you chat (F7 shows the models).", yes="Pull (y)",
                                      no="Not now (Esc)", danger=False), answered)

    def _show_pulls(self) -> None:
        """The bar above the status line: every pull in progress, hidden when there is none."""
        from assistant.ui.widgets.pull_bar import PullBar

        app = self._app
        chat = app.chat
        bars = chat.query(PullBar)
        bar = bars.first() if bars else None
        if bar is None:
            if not self.pulls:
                return
            bar = PullBar()
            chat.mount(bar, before=chat.status)
        bar.show(list(self.pulls.values()))
