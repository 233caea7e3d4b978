"""The one list of providers; each module describes itself (SPEC) and is imported only when needed."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping

from assistant.core.errors import AssistantError, ProviderUnavailable, UsageError
from assistant.core.spec import ProviderSpec
from assistant.core.types import ModelRef
from assistant.providers.base import Provider, ProviderContext

# name -> module. Adding a provider is one module plus one line here.
PROVIDERS: Mapping[str, str] = {
    "ollama": "assistant.providers.ollama",
    "embedded": "assistant.providers.embedded",
    "openai": "assistant.providers.openai",
    "anthropic": "assistant.providers.anthropic",
    "gemini": "assistant.providers.gemini",
}

Factory = Callable[[ProviderContext], Provider]


class Registry:
    """Specs on demand, instances once per process; one provider that cannot load never breaks the others."""

    def __init__(self, modules: Mapping[str, str] | None = None) -> None:
        self.modules = dict(PROVIDERS if modules is None else modules)
        self._specs: dict[str, ProviderSpec] = {}
        self._factories: dict[str, Factory] = {}
        self._problems: dict[str, str] = {}
        self._instances: dict[str, Provider] = {}
        self._context_for: Callable[[ProviderSpec], ProviderContext] = lambda spec: ProviderContext(
            spec, spec.default_section())

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.modules)

    def _load(self, name: str) -> None:
        if name in self._specs or name in self._problems:
            return
        module_name = self.modules.get(name)
        if module_name is None:
            raise UsageError(f"Unknown provider '{name}'; choose one of {', '.join(self.modules)}.")
        try:
            module = importlib.import_module(module_name)
            spec: ProviderSpec = module.SPEC
            factory: Factory = module.create
        except Exception as exc:  # a broken or missing module: only this provider is unavailable
            missing = getattr(exc, "name", None) or exc.__class__.__name__
            self._problems[name] = f"The {name} provider cannot load ({missing}); reinstall assistant to repair it."
            return
        if spec.name != name:
            self._problems[name] = f"The {name} provider describes itself as '{spec.name}'; fix its SPEC."
            return
        self._specs[name], self._factories[name] = spec, factory

    def spec(self, name: str) -> ProviderSpec:
        self._load(name)
        if name in self._problems:
            raise ProviderUnavailable(self._problems[name], provider=name)
        return self._specs[name]

    def specs(self) -> dict[str, ProviderSpec]:
        """Every provider that loads, in registry order."""
        for name in self.modules:
            self._load(name)
        return {n: self._specs[n] for n in self.modules if n in self._specs}

    def problems(self) -> dict[str, str]:
        self.specs()
        return dict(self._problems)

    def key_env(self) -> dict[str, tuple[str, ...]]:
        """Which providers take an API key, and the environment variables that hold it."""
        return {n: s.key_env for n, s in self.specs().items() if s.needs_key}

    def parse_model(self, text: str) -> ModelRef:
        """provider:model, checked against the provider's own naming rules and put in its canonical spelling."""
        ref = ModelRef.parse(text, tuple(self.modules))
        try:
            return self.spec(ref.provider).ref(ref.model)
        except ProviderUnavailable:
            return ref  # named anyway: the router reports why it cannot answer

    def register(self, spec: ProviderSpec, factory: Factory | Provider) -> None:
        """Add a provider at run time (tests register fakes); a ready instance may be given instead of a factory."""
        self.modules.setdefault(spec.name, "")
        self._problems.pop(spec.name, None)
        self._specs[spec.name] = spec
        if isinstance(factory, Provider):
            self._instances[spec.name] = factory
        else:
            self._factories[spec.name] = factory

    def bind(self, context_for: Callable[[ProviderSpec], ProviderContext]) -> None:
        """How instances get their context (settings section, HTTP client, key): set once by the composition root."""
        self._context_for = context_for

    def get(self, name: str) -> Provider:
        found = self._instances.get(name)
        if found is not None:
            return found
        spec = self.spec(name)
        try:
            instance = self._factories[name](self._context_for(spec))
        except AssistantError:
            raise
        except Exception as exc:
            raise ProviderUnavailable(f"The {name} provider could not start ({exc.__class__.__name__}); reinstall "
                                      "assistant to repair it.", provider=name) from exc
        self._instances[name] = instance
        return instance

    async def aclose(self) -> None:
        for provider in self._instances.values():
            await provider.aclose()
