"""The provider interface: stream text and usage for a request, list models, probe availability; optional abilities."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from assistant.core.config import NetworkSettings
from assistant.core.spec import TOOLS, ProviderSpec
from assistant.core.tokens import ModelFacts, TokenCount, estimate_request
from assistant.core.tools import ToolCalls
from assistant.core.types import Attachment, ModelInfo, ModelRef, ProviderRequest, Usage

if TYPE_CHECKING:
    import httpx

    # Only the model-management protocol names these: a cached `ask` imports this module and never manages models.
    from assistant.core.local_models import InstalledModel, LoadedModel, ModelDetails, PullEvent

# Text deltas, then (when the model's turn ended by asking for tools) one ToolCalls, then one Usage.
Chunk = str | ToolCalls | Usage


def _no_client() -> httpx.AsyncClient:
    raise RuntimeError("this provider was built without an HTTP client")


@dataclass(frozen=True)
class ProviderContext:
    """What a provider may use: its own settings section, the network settings, the shared HTTP client, its key."""

    spec: ProviderSpec
    section: Any  # the provider's own settings dataclass (spec.section)
    network: NetworkSettings = field(default_factory=NetworkSettings)
    http_client: Callable[[], httpx.AsyncClient] = _no_client
    get_key: Callable[[], str | None] = lambda: None
    # Model names the price table knows for this provider: what a cloud provider can offer without a request.
    catalog: Callable[[], list[str]] = lambda: []


@dataclass(frozen=True)
class Availability:
    available: bool
    detail: str


class Provider(ABC):
    """A model provider. `stream` yields text deltas, then one Usage; it raises only ProviderError subclasses."""

    # Tokens the provider's framing adds to each message and to the request (role markers, the reply's start),
    # for estimates where no tokenizer is at hand; each provider sets its own from recorded usage.
    TOKENS_PER_MESSAGE = 4
    TOKENS_PER_REQUEST = 3

    def __init__(self, context: ProviderContext) -> None:
        self.context = context
        self.spec = context.spec
        self.name = context.spec.name

    def default_model(self) -> str | None:
        """The model used when the user names only this provider, or the router picks it."""
        model = getattr(self.context.section, "model", "")
        return str(model) if model else None

    async def availability(self) -> Availability:
        """A cheap check that must return in well under a second when the provider is down."""
        return Availability(True, "")

    @property
    def ready(self) -> bool:
        """False while a first request would have to load the model first (the UI says so while it waits)."""
        return True

    def context_window(self, model: str) -> int | None:
        """The model's context window in tokens, when known without a request."""
        return None

    async def list_models(self) -> list[ModelInfo]:
        model = self.default_model()
        return [ModelInfo(ModelRef(self.name, model), True, "", local=self.spec.local)] if model else []

    async def supports_tools(self, model: str) -> bool:
        """Whether this model can be offered tools (spec capability TOOLS; a provider that knows per model says so)."""
        return self.spec.can(TOOLS)

    @abstractmethod
    def stream(self, request: ProviderRequest) -> AsyncIterator[Chunk]:
        """Text deltas as they arrive, then the tool calls the turn ended with (if any), then one Usage."""

    async def model_facts(self, model: str) -> ModelFacts:
        """Context window, image support and the like, where the provider can tell without a paid request."""
        return ModelFacts()

    def image_tokens(self, image: Attachment, model: str) -> int:
        """What one image costs in input tokens, by the provider's published rule (a common tile size here)."""
        return 258

    async def count_tokens(self, request: ProviderRequest) -> TokenCount:
        """The request's input tokens: exact where the model's tokenizer is on this machine, estimated otherwise."""
        model = request.model.model
        return TokenCount(estimate_request(request, self.TOKENS_PER_MESSAGE, self.TOKENS_PER_REQUEST,
                                           lambda image: self.image_tokens(image, model)), exact=False)

    async def aclose(self) -> None:
        return None


@runtime_checkable
class Warmable(Protocol):
    """A provider that can load its model ahead of the first question (spec capability WARM)."""

    async def warm(self) -> None: ...


@runtime_checkable
class Embeds(Protocol):
    """A provider with local embedding models (spec capability EMBED)."""

    async def embedding_model(self, preferred: str = "") -> str | None:
        """`preferred` if it is there, else the first embedding model it has; None when it has none or is down."""

    async def embed(self, model: str, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text; raises ProviderError when it cannot."""


@runtime_checkable
class ModelManager(Protocol):
    """Pulls, shows, lists, unloads and removes a provider's models (spec capability MANAGE)."""

    def pull(self, model: str) -> AsyncIterator[PullEvent]: ...

    async def installed(self) -> list[InstalledModel]: ...

    async def show(self, model: str) -> ModelDetails: ...

    async def loaded(self) -> list[LoadedModel]: ...

    async def unload(self, model: str) -> None: ...

    async def remove(self, model: str) -> None: ...


@runtime_checkable
class Manageable(Protocol):
    def manager(self) -> ModelManager: ...


class ProviderModule(Protocol):
    """What a provider module offers the registry: its description and a way to build it."""

    SPEC: ProviderSpec

    def create(self, context: ProviderContext) -> Provider: ...
