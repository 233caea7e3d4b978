"""Shared test helpers: an engine over a real SQLite file with scripted in-process providers."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any, AsyncIterator, Iterable

from assistant.config import Settings
from assistant.engine.engine import Engine
from assistant.engine.events import Event, Finished
from assistant.engine.types import ChatRequest, ModelInfo, ModelRef, ProviderRequest, Usage
from assistant.errors import AssistantError
from assistant.providers.base import Availability, Chunk, Provider
from assistant.secrets import KeyStore
from assistant.storage.db import open_database


class ScriptedProvider(Provider):
    """Plays a script per call: a list of chunks (str / Usage) or an exception; records every request."""

    def __init__(self, name: str, scripts: list[list[Any] | BaseException], *, local: bool = True,
                 available: bool = True, delay: float = 0.0, model: str = "fake") -> None:
        self.name = name
        self.local = local
        self.scripts = list(scripts)
        self.available = available
        self.delay = delay
        self.model = model
        self.requests: list[ProviderRequest] = []

    def default_model(self) -> str | None:
        return self.model

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
    base = Settings()
    changes = {name: dataclasses.replace(getattr(base, name), **values) for name, values in sections.items()}
    return dataclasses.replace(base, **changes)


def make_engine(home: Path, providers: Iterable[Provider], cfg: Settings | None = None,
                environ: dict[str, str] | None = None) -> Engine:
    from assistant.providers.base import ProviderContext
    from assistant.providers.registry import Registry

    cfg = cfg or settings()
    conn = open_database(home / "test.db").conn
    keys = KeyStore(environ or {})
    registry = Registry(ProviderContext(cfg, lambda: None, keys.get), providers={})  # type: ignore[arg-type]
    for p in providers:
        registry.register(p.name, p)
    return Engine(cfg, conn, registry=registry, keys=keys)


async def collect(engine: Engine, request: ChatRequest) -> list[Event]:
    return [event async for event in engine.chat(request)]


def finished(events: list[Event]) -> Finished:
    done = [e for e in events if isinstance(e, Finished)]
    assert done, f"no Finished event in {events}"
    return done[-1]


def text_of(events: list[Event]) -> str:
    from assistant.engine.events import TextDelta

    return "".join(e.text for e in events if isinstance(e, TextDelta))


__all__ = ["ScriptedProvider", "settings", "make_engine", "collect", "finished", "text_of", "Usage", "AssistantError"]
