"""The app factory and the App: opens the engine after first paint, routes worker failures to one handler."""

from __future__ import annotations

import dataclasses
import gc
import os
import traceback
from typing import Any, Callable, Iterable, Mapping

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from assistant.config import Settings
from assistant.paths import Paths
from assistant.ui import messages as msg
from assistant.ui.screens.chat import ChatScreen
from assistant.ui.snapshot import recent_conversations
from assistant.ui.state import load_state, save_state

EngineFactory = Callable[[Paths, Settings], Any]
HEALTH_SECONDS = 30.0


def _cloud_text(present: Iterable[str]) -> str:
    from assistant.secrets import ENV_VARS

    ready = [p for p in ENV_VARS if p in set(present)]
    return ", ".join(ready) if ready else "no keys"


def _env_keys(environ: Mapping[str, str] = os.environ) -> set[str]:
    """Providers with a key in the environment: a dictionary lookup, unlike the keyring."""
    from assistant.secrets import ENV_VARS

    return {p for p, names in ENV_VARS.items() if any(environ.get(n, "").strip() for n in names)}


def describe_error(error: BaseException | None) -> str:
    """One line that says what to do; never a traceback, never `str()` of a foreign exception."""
    from assistant.errors import AssistantError

    if isinstance(error, AssistantError):
        return error.message
    name = type(error).__name__ if error is not None else "error"
    return f"Unexpected {name}; details are in the log file (assistant.log). The app keeps running."


class AssistantApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "assistant"
    # Below 80 columns the history sidebar hides itself (ctrl+b still shows it).
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (80, "-wide")]
    BINDINGS = [
        Binding("f4", "keys", "Keys", tooltip="API keys: see, set or delete them"),
        Binding("f5", "savings", "Savings", tooltip="Money saved and spent, by period and source"),
        # TextArea uses f6 to select a line; the panel key wins so it works while typing.
        Binding("f6", "latency", "Latency", priority=True, tooltip="Time to first token and total time per model"),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    def __init__(self, paths: Paths, settings: Settings, *, engine_factory: EngineFactory | None = None) -> None:
        super().__init__()
        self.paths = paths
        self.settings = settings
        self.engine_factory = engine_factory
        self.engine: Any = None
        self.ollama_up: bool | None = None
        self._warming = False
        self._keys_wanted = False  # the keyring is asked once something needs it (typing, keys screen)
        self._state = load_state(paths.state_file)
        theme = self._state.get("theme")
        if theme and theme in self.available_themes:
            self.theme = theme

    def get_default_screen(self) -> Screen:
        return ChatScreen()

    @property
    def chat(self) -> ChatScreen:
        """The chat screen is always at the bottom of the stack; other screens are pushed over it."""
        screen = self.screen_stack[0]
        assert isinstance(screen, ChatScreen)
        return screen

    def on_mount(self) -> None:
        # Everything slow (imports of httpx and sqlite, migrations, probes) waits until the first frame is out.
        self.call_after_refresh(self._first_frame_out)

    def _first_frame_out(self) -> None:
        if not gc.isenabled():  # the launcher paused collection for start-up (cli/tui.py)
            gc.freeze()  # start-up's objects live as long as the app: later collections need not scan them
            gc.enable()
        self.open_engine()

    def first_frame(self, chat: ChatScreen) -> None:
        """Paint the first frame complete from cheap sources: a read-only query for the sidebar, and the status
        bar's last-known state; the engine and the probes then repaint only what turns out different."""
        recent = recent_conversations(self.paths.database)
        if recent is not None:
            chat.query_one("#sidebar").show(recent, [], "")  # type: ignore[attr-defined]
        model = self._state.get("model")
        if model and model != "auto":
            chat.status.model = model
        if self._state.get("ollama") in ("up", "down"):
            chat.status.ollama = self._state["ollama"]
        if "keyring_keys" in self._state:
            chat.status.providers = _cloud_text(_env_keys() | set(self._state["keyring_keys"].split(",")))

    def remember(self, **values: str) -> None:
        self._state.update(values)
        save_state(self.paths.state_file, **values)

    def watch_theme(self, theme: str) -> None:
        if self._state.get("theme") != theme and self.is_running:
            self.remember(theme=theme)

    # engine -------------------------------------------------------------------------------------
    @work(thread=True, exclusive=True, exit_on_error=False, group="engine")
    def open_engine(self) -> None:
        if self.engine_factory is not None:
            engine = self.engine_factory(self.paths, self.settings)
        else:
            from assistant.cli.context import open_engine

            engine = open_engine(self.paths, self.settings, quiet=True)
        self.post_message(msg.EngineReady(engine, list(getattr(engine, "notices", [])),
                                          engine.history.list_conversations(limit=200)))

    def on_engine_ready(self, message: msg.EngineReady) -> None:
        self.engine = message.engine
        chat = self.chat
        model = self._state.get("model")
        if model and model != "auto":
            try:
                chat.model = self.engine.parse_model(model)
                chat.status.model = model
            except Exception:  # a provider that no longer exists: fall back to the router
                chat.status.model = "auto (router)"
            if chat.pending is not None and chat.pending.model is None:
                # Typed while the engine opened: it goes to the model the status bar already showed.
                chat.pending = dataclasses.replace(chat.pending, model=chat.model)
        for note in message.notices:
            chat.log_view.add_notice(note, "warning")
        chat.engine_ready(self.engine, message.conversations)
        self.check_health()
        self.set_interval(HEALTH_SECONDS, self.check_health)
        # Never looked up on this machine (nothing to show yet), or asked for while the engine was opening.
        if self._keys_wanted or "keyring_keys" not in self._state:
            self.check_keys()

    def warm_keys(self) -> None:
        """Look keys up while the user types: routing will need them, and importing the keyring probes every
        backend (subprocesses, D-Bus), which must not happen on the event loop when the question is sent."""
        if self._keys_wanted:
            return
        self._keys_wanted = True
        if self.engine is not None:
            self.check_keys()

    def on_engine_unavailable(self, message: msg.EngineUnavailable) -> None:
        chat = self.chat
        chat.status.engine = "unavailable"
        chat.log_view.add_notice(message.text, "error")

    @work(exclusive=True, exit_on_error=False, group="health")
    async def check_health(self) -> None:
        try:
            status = await self.engine.registry.get("ollama").availability()
            ollama = "up" if status.available else "down"
        except Exception:  # an Ollama that cannot even be probed is simply down
            ollama = "down"
        self.post_message(msg.Health(ollama))

    @work(thread=True, exclusive=True, exit_on_error=False, group="health-keys")
    def check_keys(self) -> None:
        """Looking keys up may import the keyring and talk to D-Bus: only ever in this thread worker."""
        from assistant.engine.types import CLOUD_PROVIDERS

        self.post_message(msg.Health("", {p: bool(self.engine.keys.get(p)) for p in CLOUD_PROVIDERS}))

    def on_health(self, message: msg.Health) -> None:
        chat = self.chat
        if message.ollama and message.ollama != "…":
            self.ollama_up = message.ollama == "up"
            chat.status.ollama = message.ollama
            if self._state.get("ollama") != message.ollama:
                self.remember(ollama=message.ollama)
        if message.providers is not None:
            environ = getattr(getattr(self.engine, "keys", None), "environ", os.environ)
            self._keys_known({p for p, ok in message.providers.items() if ok}, _env_keys(environ))

    def on_keys_loaded(self, message: msg.KeysLoaded) -> None:
        """The keys screen looked every key up (bubbled from it): the status bar follows what it found."""
        present = {s.provider for s in message.statuses if s.present}
        self._keys_known(present, {s.provider for s in message.statuses if s.present and s.source != "keyring"})

    def _keys_known(self, present: set[str], from_env: set[str]) -> None:
        self.chat.status.providers = _cloud_text(present)
        keyring = ",".join(sorted(present - from_env))
        if self._state.get("keyring_keys") != keyring:
            self.remember(keyring_keys=keyring)

    def warm_local(self) -> None:
        """Load the embedded model while the user types, when it is the one that will answer."""
        if self._warming or self.engine is None or self.ollama_up is not False:
            return
        self._warming = True
        self.warm_embedded()

    @work(exclusive=True, exit_on_error=False, group="warm")
    async def warm_embedded(self) -> None:
        provider = self.engine.registry.get("embedded")
        warm = getattr(provider, "warm", None)
        if warm is not None and (await provider.availability()).available:
            await warm()

    # one place where failed workers become visible --------------------------------------------------
    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.worker_failed(event.worker)

    def worker_failed(self, worker: Worker) -> None:
        """The one place a failed worker (the app's or a screen's) becomes something the user sees."""
        error = worker.error
        self._log(error)
        text = describe_error(error)
        match worker.group:
            case "engine":
                self.post_message(msg.EngineUnavailable(f"The engine could not start: {text}"))
            case "chat":
                if self.screen_stack:  # not while the app is closing
                    self.call_later(self.chat.answer_failed, text)
            case "warm":
                self.notify(f"The embedded model could not be loaded: {text}", severity="warning")
            case "health" | "health-keys":
                pass  # the next probe retries; the status bar keeps the last known state
            case _:
                self.notify(text, title=getattr(error, "title", "Error"), severity="error", timeout=8)

    def _log(self, error: BaseException | None) -> None:
        from assistant.errors import AssistantError

        if error is None or isinstance(error, AssistantError):
            return
        try:
            self.paths.log_dir.mkdir(parents=True, exist_ok=True)
            with self.paths.log_file.open("a", encoding="utf-8") as log:
                log.write("".join(traceback.format_exception(error)) + "\n")
        except OSError:  # logging must never make a failure worse
            pass

    # screens and palette --------------------------------------------------------------------------
    def _engine_or_warn(self) -> bool:
        if self.engine is None:
            self.notify("Still starting up; try again in a moment.", severity="warning")
        return self.engine is not None

    def action_keys(self) -> None:
        from assistant.ui.screens.keys import KeysScreen

        if self._engine_or_warn():
            self.push_screen(KeysScreen(self.engine.keys))

    def action_savings(self) -> None:
        from assistant.ui.screens.savings import SavingsScreen

        if self._engine_or_warn():
            self.push_screen(SavingsScreen(self.engine.conn))

    def action_latency(self) -> None:
        from assistant.ui.screens.latency import LatencyScreen

        if self._engine_or_warn():
            self.push_screen(LatencyScreen(self.engine.conn))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        chat = self.chat
        for binding in [*ChatScreen.BINDINGS, *self.BINDINGS]:
            if isinstance(binding, Binding) and binding.action not in ("quit",):
                target = chat if binding in ChatScreen.BINDINGS else self
                yield SystemCommand(binding.description, f"{binding.tooltip} ({binding.key})",
                                    getattr(target, f"action_{binding.action}"))

    async def action_quit(self) -> None:
        self.workers.cancel_all()
        if self.engine is not None:
            try:
                await self.engine.aclose()
            except Exception:  # closing must never block quitting
                pass
        self.exit(0)


def make_app(paths: Paths, settings: Settings, *, engine_factory: EngineFactory | None = None) -> AssistantApp:
    """The one factory: the CLI passes nothing; tests pass a factory that builds an engine on fakes."""
    return AssistantApp(paths, settings, engine_factory=engine_factory)
