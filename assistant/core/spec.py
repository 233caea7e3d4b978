"""What a provider is, as data: the one description every layer reads instead of naming providers."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from assistant.core.errors import UsageError
from assistant.core.types import ModelRef

# Optional abilities a provider may declare; the engine and the UI look them up here instead of at names.
WARM = "warm"  # can be loaded ahead of the first question
MANAGE = "manage"  # can pull, show, list loaded and remove models (Ollama)
TOOLS = "tools"  # can call tools
IMAGES = "images"  # some of its models accept images
EMBED = "embed"  # can turn texts into vectors with a local embedding model (the semantic cache uses it)

# Model names are sent in URLs and JSON; anything else is refused before a request is built.
DEFAULT_MODEL_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199}"


@dataclass(frozen=True)
class ProviderSpec:
    """Everything the app knows about a provider without talking to it; lives in the provider's own module."""

    name: str  # the prefix of its model names: openai in openai:gpt-4o-mini
    label: str  # how people know it: OpenAI
    local: bool  # runs on this machine: free, private, offered first by the local-first policy
    section: type[Any]  # the dataclass of its [name] table in config.toml
    section_defaults: Mapping[str, Any] = field(default_factory=dict)  # defaults that differ from the class's
    key_env: tuple[str, ...] = ()  # environment variables holding its API key (the first is suggested); () = no key
    env: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # setting -> variables that override it
    model_example: str = ""  # a real model name, for help texts and error messages
    default_tag: str = ""  # a tag the provider adds to bare names (Ollama's "latest"), so the cache does too
    model_pattern: str = DEFAULT_MODEL_PATTERN
    capabilities: frozenset[str] = frozenset()
    model_setting: str = "model"  # the field of its section that names the model it answers with by default

    @property
    def needs_key(self) -> bool:
        return bool(self.key_env)

    def can(self, capability: str) -> bool:
        return capability in self.capabilities

    def default_section(self) -> Any:
        return dataclasses.replace(self.section(), **self.section_defaults)

    def default_model(self, section: Any) -> str:
        """The model this provider answers with when none is named ("" when it has none configured)."""
        return str(getattr(section, self.model_setting, "") or "")

    def canonical_model(self, model: str) -> str:
        """The one spelling of a model name the provider treats as the same model."""
        if self.default_tag and ":" not in model:
            return f"{model}:{self.default_tag}"
        return model

    def ref(self, model: str) -> ModelRef:
        """A checked, canonical reference to one of this provider's models."""
        if not re.fullmatch(self.model_pattern, model) or ".." in model:
            shown = model.encode("unicode_escape").decode("ascii")[:80]
            raise UsageError(f"'{shown}' is not a valid {self.label} model name; e.g. {self.name}:{self.model_example}.")
        return ModelRef(self.name, self.canonical_model(model))
