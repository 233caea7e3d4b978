"""Which providers exist, loaded lazily so one broken provider never breaks the others."""

from __future__ import annotations

import importlib

from assistant.errors import ProviderUnavailable, UsageError
from assistant.providers.base import Provider, ProviderContext

# name -> "module:Class"; modules are imported on first use only.
PROVIDERS: dict[str, str] = {
    "ollama": "assistant.providers.ollama:OllamaProvider",
    "embedded": "assistant.providers.embedded:EmbeddedProvider",
    "openai": "assistant.providers.openai:OpenAIProvider",
    "anthropic": "assistant.providers.anthropic:AnthropicProvider",
    "gemini": "assistant.providers.gemini:GeminiProvider",
}


class Registry:
    """Creates each provider once per process, on demand."""

    def __init__(self, context: ProviderContext, providers: dict[str, str] | None = None) -> None:
        self.context = context
        self.specs = dict(PROVIDERS if providers is None else providers)
        self._instances: dict[str, Provider] = {}

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.specs)

    def get(self, name: str) -> Provider:
        if name in self._instances:
            return self._instances[name]
        spec = self.specs.get(name)
        if spec is None:
            raise UsageError(f"Unknown provider '{name}'; choose one of {', '.join(self.specs)}.")
        module_name, _, cls_name = spec.partition(":")
        try:
            cls = getattr(importlib.import_module(module_name), cls_name)
        except ImportError as exc:
            raise ProviderUnavailable(
                f"The {name} provider cannot load ({exc.name or exc}); reinstall assistant to repair it.", provider=name
            ) from exc
        instance = cls(self.context)
        self._instances[name] = instance
        return instance

    def register(self, name: str, provider: Provider) -> None:
        """Put a ready instance in place (tests use this for fakes)."""
        self.specs.setdefault(name, "")
        self._instances[name] = provider

    async def aclose(self) -> None:
        for provider in self._instances.values():
            await provider.aclose()
