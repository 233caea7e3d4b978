"""UI test fixtures: an app built by the real factory around an engine on scripted providers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backends import fail
from textual.worker import WorkerCancelled

from assistant.core.config import Settings
from assistant.ui.app import AssistantApp, make_app
from tests.fakes.memory_keyring import MemoryKeyring
from tests.helpers import ScriptedProvider, Usage, engine_setup, make_engine

SIZE = (120, 40)


def offline_providers(*answers: list[Any], delay: float = 0.0) -> list[ScriptedProvider]:
    """Ollama down, the embedded model answering: what a fresh install without keys sees."""
    scripts = [list(a) for a in answers] or [["Hello ", "there.", Usage(5, 2)]]
    return [ScriptedProvider("ollama", [["unused"]], available=False, model="llama3.2"),
            ScriptedProvider("embedded", scripts, delay=delay, model="smollm2")]


@pytest.fixture
def memory_backend() -> Iterator[None]:
    """An in-memory keyring for the test, the failing backend again afterwards."""
    MemoryKeyring.store.clear()
    keyring.set_keyring(MemoryKeyring())
    yield
    keyring.set_keyring(fail.Keyring())
    MemoryKeyring.store.clear()


@pytest.fixture
def build_app(isolated_env: Path) -> Callable[..., tuple[AssistantApp, Any]]:
    def build(providers: list[ScriptedProvider] | None = None, environ: dict[str, str] | None = None,
              cfg: Settings | None = None, home: Path | None = None) -> tuple[AssistantApp, Any]:
        providers = providers or offline_providers()
        where = home or isolated_env
        engine = make_engine(where, providers, cfg, environ=environ)
        return make_app(engine_setup(where, providers, cfg), engine_factory=lambda setup: engine), engine
    return build


async def all_workers_done(app: Any) -> None:
    """Wait for every worker; one cancelled because a newer one replaced it (exclusive workers, e.g. two route
    previews in a row) is the app working as meant, not a failure of the test."""
    for worker in list(app.workers):
        try:
            await worker.wait()
        except WorkerCancelled:
            pass


async def ready(pilot: Any) -> None:
    """Wait until the engine worker has opened the engine and the first history load is done."""
    app = pilot.app
    for _ in range(200):
        await pilot.pause(0.01)
        if app.engine is not None and app.chat.engine is not None:
            break
    await all_workers_done(app)
    await pilot.pause()


async def settle(pilot: Any) -> None:
    """Let posted messages start their workers, wait for every worker, then let their results render."""
    await pilot.pause()
    await all_workers_done(pilot.app)
    await pilot.pause()
    await pilot.pause()


async def ask(pilot: Any, text: str) -> None:
    prompt = pilot.app.chat.query_one("#prompt")
    prompt.load_text(text)
    prompt.focus()
    await pilot.press("enter")
    await settle(pilot)
