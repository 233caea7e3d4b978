"""API keys and the team cache's secrets: whether each is set, where from, its last 4 characters; set or delete one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Input, Label, Static

from assistant.compose import extra_secret_labels, extra_secrets
from assistant.core.reports import KeyStatus
from assistant.ui.messages import Done, KeysLoaded
from assistant.ui.worker_errors import ForwardWorkerFailures

if TYPE_CHECKING:
    from assistant.engine.engine import Engine


def describe(status: KeyStatus) -> str:
    if not status.present:
        return "no key set"
    return f"set · from {status.source} · ends in …{status.last4}"


class KeysScreen(ForwardWorkerFailures, Screen[None]):
    """The KeyStore is passed down; keyring calls (which may block on D-Bus) run in thread workers."""

    BINDINGS = [Binding("escape", "app.pop_screen", "Back")]

    def __init__(self, engine: Engine) -> None:
        super().__init__(id="keys")
        self.engine = engine
        self.keys = engine.keys
        # Every secret the key store keeps: the providers' keys, then the others (the team cache's), by name.
        rows = [(s.name, f"{s.label} ({s.name})", s.key_env) for s in engine.key_specs()]
        labels = extra_secret_labels()
        self.extra = extra_secrets()
        rows += [(name, f"{labels[name]} ({name})", env) for name, env in self.extra.items() if name in self.keys.names]
        self.rows = rows
        self.names = tuple(name for name, _, _ in rows)

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="keys-body"):
            yield Static("", id="keyring-guidance", markup=False)
            for name, label, env in self.rows:
                with Vertical(classes="key-row", id=f"row-{name}"):
                    yield Label(f"{label} · or set {' / '.join(env)}", classes="key-name", markup=False)
                    yield Static("checking…", id=f"status-{name}", markup=False)
                    with Horizontal(classes="key-edit"):
                        what = "secret" if name in self.extra else "key"
                        yield Input(placeholder=f"paste a new {name} {what}, Enter saves", password=True,
                                    id=f"key-{name}")
                        yield Button("Delete", id=f"delete-{name}", variant="error")
            yield Static("Keys live in the OS keyring; an environment variable, when set, wins. "
                         "Only the last 4 characters are ever shown.", classes="hint", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "API keys"
        if self.names:  # a pasted key lands in a field, never nowhere
            self.query_one(f"#key-{self.names[0]}", Input).focus()
        self.load_keys()

    @work(thread=True, exclusive=True, exit_on_error=False, group="keys")
    def load_keys(self) -> None:
        problem = self.engine.keyring_problem() or ""
        self.post_message(KeysLoaded([self.keys.status(p) for p in self.names], problem))

    def on_keys_loaded(self, message: KeysLoaded) -> None:
        for status in message.statuses:
            self.query_one(f"#status-{status.provider}", Static).update(describe(status))
        guidance = self.query_one("#keyring-guidance", Static)
        guidance.update(message.keyring_error)
        guidance.display = bool(message.keyring_error)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        provider = (event.input.id or "").removeprefix("key-")
        if provider in self.names and event.value.strip():
            event.input.value = ""
            self.change_key(provider, event.value)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        provider = (event.button.id or "").removeprefix("delete-")
        if provider in self.names:
            self.change_key(provider, None)

    @work(thread=True, exclusive=True, exit_on_error=False, group="keys-edit")
    def change_key(self, provider: str, key: str | None) -> None:
        if key is None:
            removed = self.keys.delete(provider)
            text = f"Deleted the {provider} key from the keyring." if removed else f"There was no {provider} key in the keyring."
        else:
            status = self.keys.set(provider, key)
            text = f"Saved the {provider} key (ends in …{status.last4})."
        self.post_message(Done(text))

    def on_done(self, message: Done) -> None:
        self.notify(message.text)
        self.load_keys()
