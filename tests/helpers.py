"""Shared test helpers: an engine over a real SQLite file with scripted in-process providers."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

from assistant.compose import Setup, build_engine, make_keys, setup_at
from assistant.core.config import Settings
from assistant.core.errors import AssistantError
from assistant.core.events import Event, Finished
from assistant.core.spec import ProviderSpec
from assistant.core.types import ChatRequest, ModelInfo, ModelRef, ProviderRequest, Usage
from assistant.engine.engine import Engine
from assistant.providers.base import Availability, Chunk, Provider, ProviderContext
from assistant.providers.registry import PROVIDERS, Registry
from assistant.secrets import KeyStore


@dataclasses.dataclass(frozen=True)
class NoSettings:
    """The config section of a provider that has no settings."""


def fake_spec(name: str, local: bool) -> ProviderSpec:
    """The real provider's description when the name is a real one (its key variables, its naming), else a plain one."""
    if name in PROVIDERS:
        return dataclasses.replace(Registry().spec(name), local=local)
    return ProviderSpec(name, name.title(), local, NoSettings, model_example="fake")


class ScriptedProvider(Provider):
    """Plays a script per call: a list of chunks (str / Usage) or an exception; records every request."""

    def __init__(self, name: str, scripts: list[list[Any] | BaseException], *, local: bool = True,
                 available: bool = True, delay: float = 0.0, model: str = "fake", window: int | None = None) -> None:
        spec = fake_spec(name, local)
        super().__init__(ProviderContext(spec, spec.default_section()))
        self.local = local
        self.scripts = list(scripts)
        self.available = available
        self.delay = delay
        self.model = model
        self.window = window
        self.requests: list[ProviderRequest] = []

    def default_model(self) -> str | None:
        return self.model

    def context_window(self, model: str) -> int | None:
        return self.window

    async def availability(self) -> Availability:
        return Availability(self.available, "" if self.available else f"{self.name} is down")

    async def list_models(self) -> list[ModelInfo]:
        return [ModelInfo(ModelRef(self.name, self.model), self.available, "", local=self.local)]

    async def stream(self, request: ProviderRequest) -> AsyncIterator[Chunk]:
        self.requests.append(request)
        script = self.scripts.pop(0) if len(self.scripts) > 1 else self.scripts[0]
        if isinstance(script, BaseException):
            raise script
        for item in script:
            if isinstance(item, BaseException):
                raise item
            if self.delay:
                await asyncio.sleep(self.delay)
            yield item


def settings(**sections: dict[str, Any]) -> Settings:
    """Settings shaped like config.toml, checked the same way: settings(general={"policy": "cheapest"})."""
    from assistant.core.config import settings_from_mapping

    return settings_from_mapping(sections, Registry().specs(), "test settings")


def engine_setup(home: Path, providers: Iterable[Provider], cfg: Settings | None = None) -> Setup:
    """The given providers under their real descriptions; every other real provider is there but cannot answer
    (as on a machine where it is not set up), so routing, baselines and key lists see the real set."""
    registry = Registry({})
    given = {p.name: p for p in providers}
    for name in PROVIDERS:
        if name not in given:
            spec = Registry().spec(name)
            registry.register(spec, ScriptedProvider(name, [[]], local=spec.local, available=False,
                                                     model=spec.model_example))
    for p in given.values():
        registry.register(p.spec, p)
    base = setup_at(home)
    return Setup(base.paths, cfg or settings(), registry)


def real_provider(name: str, **section: Any) -> Any:
    """The real provider class with `section` as its [name] table in config.toml (checked as the file would be)."""
    registry = Registry()
    cfg = settings(**{name: section})
    registry.bind(lambda spec: ProviderContext(spec, cfg.provider(spec), cfg.network))
    return registry.get(name)


def store_for(environ: dict[str, str] | None = None) -> KeyStore:
    """A key store for the real providers that sees only `environ` (and the keyring the test chose)."""
    return make_keys(Registry(), environ or {})


def real_engine(home: Path, cfg: Settings | None = None, environ: dict[str, str] | None = None,
                replace: Iterable[Provider] = ()) -> Engine:
    """Every real provider (scripted ones in place of those in `replace`), built by the composition root."""
    registry = Registry()
    for p in replace:
        registry.register(p.spec, p)
    setup = Setup(setup_at(home).paths, cfg or settings(), registry)
    return build_engine(setup, keys=make_keys(registry, environ or {}))


def serve_with(monkeypatch: Any, providers: Iterable[Provider], environ: dict[str, str] | None = None) -> None:
    """Commands run in-process build their engine with these scripted providers in place of the real ones."""
    import assistant.compose as compose

    real = compose.build_engine
    chosen = list(providers)

    def build(setup: Setup, **kwargs: Any) -> Engine:
        for p in chosen:
            setup.registry.register(p.spec, p)
        kwargs.setdefault("keys", make_keys(setup.registry, environ or {}))
        return real(setup, **kwargs)
    monkeypatch.setattr(compose, "build_engine", build)


def make_engine(home: Path, providers: Iterable[Provider], cfg: Settings | None = None,
                environ: dict[str, str] | None = None) -> Engine:
    """The engine the app builds, from the composition root, over scripted providers and a real SQLite file."""
    setup = engine_setup(home, providers, cfg)
    return build_engine(setup, keys=store_for(environ))


async def collect(engine: Engine, request: ChatRequest) -> list[Event]:
    return [event async for event in engine.chat(request)]


def finished(events: list[Event]) -> Finished:
    done = [e for e in events if isinstance(e, Finished)]
    assert done, f"no Finished event in {events}"
    return done[-1]


def text_of(events: list[Event]) -> str:
    from assistant.core.events import TextDelta

    return "".join(e.text for e in events if isinstance(e, TextDelta))


__all__ = [
    "AssistantError",
    "ScriptedProvider",
    "Usage",
    "collect",
    "engine_setup",
    "finished",
    "make_engine",
    "make_keys",
    "real_engine",
    "serve_with",
    "settings",
    "store_for",
    "text_of",
]
