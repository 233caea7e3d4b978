"""The provider interface: stream text and usage for a request, list models, probe availability."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, AsyncIterator, Callable

from assistant.engine.types import ModelInfo, ProviderRequest, Usage

if TYPE_CHECKING:
    import httpx

    from assistant.config import Settings

Chunk = str | Usage


@dataclass(frozen=True)
class ProviderContext:
    """What a provider may use besides settings: the shared HTTP client and the key lookup."""

    settings: "Settings"
    http_client: Callable[[], "httpx.AsyncClient"]
    get_key: Callable[[str], str | None]


@dataclass(frozen=True)
class Availability:
    available: bool
    detail: str


class Provider:
    """A model provider. `stream` yields text deltas, then one Usage; it raises only ProviderError subclasses."""

    name: str = ""
    local: bool = False

    def __init__(self, context: ProviderContext) -> None:
        self.context = context
        self.settings = context.settings

    def default_model(self) -> str | None:
        """The model used when the user names only this provider, or the router picks it."""
        return None

    async def availability(self) -> Availability:
        """A cheap check that must return in well under a second when the provider is down."""
        return Availability(True, "")

    async def list_models(self) -> list[ModelInfo]:
        return []

    def stream(self, request: ProviderRequest) -> AsyncIterator[Chunk]:
        raise NotImplementedError

    async def aclose(self) -> None:
        return None
