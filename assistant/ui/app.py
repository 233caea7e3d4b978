"""The app factory and the App: paints the first frame from the last run's state, then reads the settings and
opens the engine in a thread worker; routes worker failures to one handler."""

from __future__ import annotations

import gc
import os
import traceback
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from assistant.ui import messages as msg
from assistant.ui.model_pulls import ModelPulls
from assistant.ui.screens.chat import ChatScreen
from assistant.ui.state import load_state, save_state

if TYPE_CHECKING:
    from assistant.compose import Setup
    from assistant.core.errors import AssistantError
    from assistant.core.paths import Paths
    from assistant.core.types import ModelRef
    from assistant.engine.engine import Engine

EngineFactory = Callable[["Setup"], "Engine"]
HEALTH_SECONDS = 30.0
TEAM_SECONDS = 1.0  # reading the team cache's state is a lock and a few fields: cheap enough to follow closely


def _cloud_text(order: Iterable[str], present: Iterable[str]) -> str:
    ready = [p for p in order if p in set(present)]
    return ", ".join(ready) if ready else "no keys"


def _env_keys(key_env: Mapping[str, tuple[str, ...]], environ: Mapping[str, str] = os.environ) -> set[str]:
    """Providers with a key in the environment: a dictionary lookup, unlike the keyring."""
    return {p for p, names in key_env.items() if any(environ.get(n, "").strip() for n in names)}


def key_env_text(key_env: Mapping[str, tuple[str, ...]]) -> str:
    """The keyed providers and their variables as one line of the state file, e.g. "openai=OPENAI_API_KEY"."""
    return ";".join(f"{name}={','.join(names)}" for name, names in key_env.items())


def parse_key_env(text: str) -> dict[str, tuple[str, ...]]:
    """The inverse of `key_env_text`: the first frame knows which variables hold keys before the providers load."""
    pairs = (part.partition("=") for part in text.split(";") if part)
    return {name: tuple(n for n in names.split(",") if n) for name, _, names in pairs}


def local_text(status: Mapping[str, bool]) -> str:
    """Each provider on this machine and whether it can answer now, e.g. "ollama down · embedded up"."""
    return " · ".join(f"{name} {'up' if ok else 'down'}" for name, ok in status.items()) or "none"


def describe_error(error: BaseException | None) -> str:
    """One line that says what to do; never a traceback, never `str()` of a foreign exception."""
    from assistant.core.errors import AssistantError

    if isinstance(error, AssistantError):
        return error.message
    name = type(error).__name__ if error is not None else "error"
    return f"Unexpected {name}; details are in the log file (assistant.log). The app keeps running."


class AssistantApp(ModelPulls, App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "assistant"
    # Below this width the history sidebar is hidden (ctrl+b opens it over the chat) and the footer shows fewer keys.
    WIDE_AT = 110
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (WIDE_AT, "-wide")]
    BINDINGS = [
        Binding("f1", "help", "Help", tooltip="Every key of the app"),
        Binding("f4", "keys", "API keys", show=False, tooltip="API keys: see, set or delete them"),
        Binding("f5", "savings", "Savings", show=False, tooltip="Money saved and spent, by period and source"),
        # TextArea uses f6 to select a line; the panel key wins so it works while typing.
        Binding("f6", "latency", "Latency", priority=True, show=False,
                tooltip="Time to first token and total time per model"),
        # TextArea selects all on f7; the models screen wins so it opens while typing (and from the model picker).
        Binding("f7", "models", "Models", priority=True, show=False,
                tooltip="Models on this machine: pull (keeps going while you chat), remove, unload, what is loaded"),
        Binding("ctrl+q", "quit", "Quit", priority=True, tooltip="Quit the app"),
    ]

    def __init__(self, paths: Paths, *, setup: Setup | None = None,
                 engine_factory: EngineFactory | None = None) -> None:
        super().__init__()
        self.setup = setup  # None: read (config.toml, providers) in the engine's worker, after the first frame
        self.paths = paths
        self.engine_factory = engine_factory
        self.engine: Engine | None = None
        self.startup_error: AssistantError | None = None  # why the app could not start (config.toml)
        self.local_up: dict[str, bool] | None = None
        self._warming = False
        self._keys_wanted = False  # the keyring is asked once something needs it (typing, keys screen)
        self._state = load_state(self.paths.state_file)
        # Which variables hold which provider's key: the last run's list until the providers are loaded.
        self.key_env = setup.registry.key_env() if setup is not None else parse_key_env(self._state.get("key_env", ""))
        self._init_pulls()
        theme = self._state.get("theme")
        if theme and theme in self.available_themes:
            self.theme = theme

    def get_default_screen(self) -> Screen[None]:
        return ChatScreen()

    @property
    def chat(self) -> ChatScreen:
        """The chat screen is always at the bottom of the stack; other screens are pushed over it."""
        screen = self.screen_stack[0]
        assert isinstance(screen, ChatScreen)
        return screen

    def live_chat(self) -> ChatScreen | None:
        """The chat screen, or None while the app closes: a late message or timer must not touch removed widgets."""
        if self._closing or not self.screen_stack:
            return None
        chat = self.chat
        return None if chat._closing or chat._closed or not chat.query("#status") else chat

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
        from assistant.compose import peek_recent

        recent = peek_recent(self.paths)
        if recent is not None:
            chat.sidebar.show(recent, [], "")
        model = self._state.get("model")
        chat.status.model = model if model and model != "auto" else self._state.get("answering_model", "auto")
        if self._state.get("answering"):  # who answered the last time the router was asked, and why
            chat.log_view.welcome.show_lines(self._state["answering"].split("\n"))
        if self._state.get("local"):
            chat.status.local = self._state["local"]
        if "keyring_keys" in self._state:
            chat.status.providers = self._providers_text()

    def _providers_text(self, environ: Mapping[str, str] = os.environ) -> str:
        """The status bar's cloud providers from what is known without the keyring: the environment, and the
        keys the keyring held last time."""
        present = _env_keys(self.key_env, environ) | set(self._state["keyring_keys"].split(","))
        return _cloud_text(self.key_env, present)

    def remember(self, **values: str) -> None:
        self._state.update(values)
        save_state(self.paths.state_file, **values)

    def watch_theme(self, theme: str) -> None:
        if self._state.get("theme") != theme and self.is_running:
            self.remember(theme=theme)

    # engine -------------------------------------------------------------------------------------
    @work(thread=True, exclusive=True, exit_on_error=False, group="engine")
    def open_engine(self) -> None:
        from assistant import compose
        from assistant.core.errors import AssistantError

        if self.setup is None:
            try:
                self.setup = compose.load()
            except AssistantError as exc:  # a bad config.toml: the app cannot run; the launcher says why
                self.call_from_thread(self._cannot_start, exc)
                return
        engine = (self.engine_factory or compose.build_engine)(self.setup)
        self.post_message(msg.EngineReady(engine, list(engine.notices), engine.queries.conversations(limit=200)))

    def _cannot_start(self, error: AssistantError) -> None:
        """Before the app, a bad config.toml was one line on stderr and exit status 1: it still is (launch.py)."""
        self.startup_error = error
        self.exit(return_code=1)

    def on_engine_ready(self, message: msg.EngineReady) -> None:
        self.engine = engine = message.engine
        chat = self.chat
        key_env = engine.registry.key_env()
        if self._state.get("key_env") != (text := key_env_text(key_env)):  # first run, or the providers changed
            self.key_env = key_env
            self.remember(key_env=text)
            if "keyring_keys" in self._state:
                chat.status.providers = self._providers_text(engine.keys.environ)
        chat.model = self.default_model()
        if self._state.get("model", "auto") != "auto" and chat.model is None:
            chat.status.model = "auto"  # a provider that no longer exists: the router chooses
        for note in message.notices:
            chat.log_view.add_notice(note, "warning")
        chat.engine_ready(engine, message.conversations)
        if engine.tools.configured:
            chat.start_tools()
        self.refresh_preview()
        self.check_health()
        self.set_interval(HEALTH_SECONDS, self.check_health)
        self.load_prompts()
        if (engine.settings.ui.reopen_last and message.conversations and chat.conversation_id is None
                and not chat.busy):
            chat.open_conversation(message.conversations[0].id)
        # Never looked up on this machine (nothing to show yet), or asked for while the engine was opening.
        if self._keys_wanted or "keyring_keys" not in self._state:
            self.check_keys()
        if engine.team_status() is not None:
            self.warm_team()
            self.show_team()
            self.set_interval(TEAM_SECONDS, self.show_team)

    @work(thread=True, exclusive=True, exit_on_error=False, group="team")
    def warm_team(self) -> None:
        """The team secret may come from the keyring, and the connection is made in the background."""
        assert self.engine is not None
        self.engine.warm_team()

    def show_team(self) -> None:
        status = self.engine.team_status() if self.engine is not None else None
        chat = self.live_chat()
        if status is not None and chat is not None:
            chat.status.team = "off for this conversation" if chat.private else status.short

    def default_model(self) -> ModelRef | None:
        """The model new conversations ask (the last one picked), None for the router; a name that no longer
        parses (its provider is gone) is dropped."""
        from assistant.core.errors import AssistantError

        name = self._state.get("model")
        if not name or name == "auto" or self.engine is None:
            return None
        try:
            return self.engine.parse_model(name)
        except AssistantError:
            return None

    @work(exclusive=True, exit_on_error=False, group="preview")
    async def refresh_preview(self) -> None:
        """Which model would answer now, and why: after start-up, health changes, keys and model changes."""
        if self.engine is not None:
            self.post_message(msg.RoutePreviewed(await self.engine.preview(self.chat.model)))

    def on_route_previewed(self, message: msg.RoutePreviewed) -> None:
        from assistant.ui.screens.chat import auto_text

        chat = self.live_chat()
        if chat is None:
            return
        chat.show_preview(message.preview)
        if chat.model is None:  # the first frame of the next run shows this at once
            answering = "\n".join(chat.log_view.welcome.lines)
            if (self._state.get("answering"), self._state.get("answering_model")) != (answering, auto_text(message.preview)):
                self.remember(answering=answering, answering_model=auto_text(message.preview))

    @work(thread=True, exclusive=True, exit_on_error=False, group="prompts")
    def load_prompts(self) -> None:
        assert self.engine is not None
        self.post_message(msg.PromptsLoaded(self.engine.queries.recent_prompts(200)))

    def on_prompts_loaded(self, message: msg.PromptsLoaded) -> None:
        chat = self.live_chat()
        if chat is None:
            return
        prompt = chat.prompt
        prompt.recall_list = prompt.recall_list + [p for p in message.prompts if p not in prompt.recall_list]

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
        chat.give_back_pending()

    @work(exclusive=True, exit_on_error=False, group="health")
    async def check_health(self) -> None:
        assert self.engine is not None
        status = await self.engine.local_status()
        self.post_message(msg.Health(local={name: s.available for name, s in status.items()}))

    @work(thread=True, exclusive=True, exit_on_error=False, group="health-keys")
    def check_keys(self) -> None:
        """Looking keys up may import the keyring and talk to D-Bus: only ever in this thread worker."""
        assert self.engine is not None
        self.post_message(msg.Health(providers=self.engine.keys_present()))

    def on_health(self, message: msg.Health) -> None:
        chat = self.live_chat()
        if chat is None:
            return
        if message.local is not None:
            if self.local_up is not None and self.local_up != message.local:
                self.refresh_preview()  # a local model came up or went down: who answers may have changed
            self.local_up = message.local
            text = local_text(message.local)
            chat.status.local = text
            if self._state.get("local") != text:
                self.remember(local=text)
        if message.providers is not None and self.engine is not None:
            self._keys_known({p for p, ok in message.providers.items() if ok},
                             _env_keys(self.key_env, self.engine.keys.environ))

    def on_keys_loaded(self, message: msg.KeysLoaded) -> None:
        """The keys screen looked every key up (bubbled from it): the status bar follows what it found."""
        present = {s.provider for s in message.statuses if s.present}
        self._keys_known(present, {s.provider for s in message.statuses if s.present and s.source != "keyring"})

    def _keys_known(self, present: set[str], from_env: set[str]) -> None:
        text = _cloud_text(self.key_env, present)
        chat = self.live_chat()
        if chat is None:
            return
        if chat.status.providers not in (text, "…") and self.engine is not None:
            self.refresh_preview()  # a key was added or removed
        chat.status.providers = text
        keyring = ",".join(sorted(present - from_env))
        if self._state.get("keyring_keys") != keyring:
            self.remember(keyring_keys=keyring)

    def warm_local(self) -> None:
        """Load the model that will answer while the user types, when it loads ahead of time (the embedded one)."""
        if self._warming or self.engine is None or self.local_up is None:
            return
        self._warming = True
        self.warm_next()
        self.warm_similar()

    @work(exclusive=True, exit_on_error=False, group="warm-similar")
    async def warm_similar(self) -> None:
        """The similar-question tier's model and index, so the first lookup does not wait for them."""
        assert self.engine is not None
        await self.engine.warm_similar()

    @work(exclusive=True, exit_on_error=False, group="warm")
    async def warm_next(self) -> None:
        assert self.engine is not None
        await self.engine.warm_next()

    # one place where failed workers become visible --------------------------------------------------
    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.worker_failed(event.worker)

    def on_worker_failed(self, message: msg.WorkerFailed) -> None:
        self.worker_failed(message.worker)

    def worker_failed(self, worker: Worker[object]) -> None:
        """The one place a failed worker (the app's or a screen's) becomes something the user sees."""
        error = worker.error
        self._log_error(error)
        text = describe_error(error)
        match worker.group:
            case "engine":
                self.post_message(msg.EngineUnavailable(f"The engine could not start: {text}"))
            case "chat":
                if self.screen_stack:  # not while the app is closing
                    self.call_later(self.chat.answer_failed, text)
            case "warm":
                self.notify(f"The embedded model could not be loaded: {text}", severity="warning")
            case "health" | "health-keys" | "team":
                pass  # the next probe retries; the status bar keeps the last known state
            case "preview":
                from assistant.core.types import RoutePreview

                self.chat.show_preview(RoutePreview(None, f"could not check which model answers now ({text})"))
            case _:
                self.notify(text, title=getattr(error, "title", "Error"), severity="error", timeout=8)

    def _log_error(self, error: BaseException | None) -> None:
        from assistant.core.errors import AssistantError

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

    def back_to_chat(self) -> None:
        """Close whatever is over the chat (panels, dialogs): a panel key or palette command starts from there.
        A dialog the engine waits on (a tool call's consent) is never closed this way: it stays, under the panel."""
        while len(self.screen_stack) > 1 and not getattr(self.screen, "ANSWER_REQUIRED", False):
            self.pop_screen()

    def _panel(self, name: str, build: Callable[[Engine], Screen[None]]) -> None:
        """Panels replace one another; the key of the panel on screen closes it (so pressing it twice is safe)."""
        if self.screen.id == name:
            self.pop_screen()
            return
        if not self._engine_or_warn():
            return
        assert self.engine is not None
        self.back_to_chat()
        self.push_screen(build(self.engine))

    def action_keys(self) -> None:
        from assistant.ui.screens.keys import KeysScreen

        self._panel("keys", KeysScreen)

    def action_savings(self) -> None:
        from assistant.ui.screens.savings import SavingsScreen

        self._panel("savings", lambda engine: SavingsScreen(engine.queries))

    def action_latency(self) -> None:
        from assistant.ui.screens.latency import LatencyScreen

        self._panel("latency", lambda engine: LatencyScreen(engine.queries))

    def action_help(self) -> None:
        from assistant.ui.screens.help import HelpScreen, help_sections

        if isinstance(self.screen, HelpScreen):
            self.pop_screen()
            return
        self.push_screen(HelpScreen(help_sections(self)))

    def action_models(self) -> None:
        from assistant.ui.screens.model_picker import ModelPickerScreen
        from assistant.ui.screens.models import ModelsScreen

        if isinstance(self.screen, ModelsScreen):  # pressed again: it closes
            self.pop_screen()
            return
        if self.engine is None:
            self._engine_or_warn()
            return
        if isinstance(self.screen, ModelPickerScreen):  # opened from the picker: the models screen replaces it
            self.screen.dismiss(None)

        def chosen(result: str | None) -> None:
            if result is not None and self.engine is not None:
                self.chat.use_model(self.engine.parse_model(result), chosen=True)

        self.push_screen(ModelsScreen(self.engine), chosen)

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        # Textual's own "Keys" panel is replaced by Help (F1), which lists every key and closes with Esc.
        yield from (c for c in super().get_system_commands(screen) if c.title != "Keys")
        for binding in self.BINDINGS:
            if isinstance(binding, Binding) and binding.action != "quit":
                yield SystemCommand(binding.description, f"{binding.tooltip} ({binding.key})",
                                    getattr(self, f"action_{binding.action}"))
        for binding in ChatScreen.BINDINGS:
            if isinstance(binding, Binding):
                yield SystemCommand(binding.description, f"{binding.tooltip} ({binding.key})",
                                    lambda action=binding.action: self._on_chat(action))

    def _on_chat(self, action: str) -> None:
        """A chat command from the palette, run on the chat screen whatever was open over it."""
        self.back_to_chat()
        getattr(self.chat, f"action_{action}")()

    async def action_quit(self) -> None:
        self.workers.cancel_all()
        if self.engine is not None:
            try:
                await self.engine.aclose()
            except Exception:  # closing must never block quitting
                pass
        self.exit(0)


def make_app(setup: Setup | None = None, *, engine_factory: EngineFactory | None = None) -> AssistantApp:
    """The one factory. The launcher passes nothing: the paths come from the environment now, the settings and the
    providers are read in the engine's worker once the first frame is out. Tests pass a setup, and a factory that
    builds an engine on fakes."""
    from assistant.core.paths import resolve_paths

    return AssistantApp(setup.paths if setup is not None else resolve_paths(), setup=setup,
                        engine_factory=engine_factory)
