"""Models on this machine, through the provider that manages them (spec capability MANAGE), and what is known of
any model before a request: its context window and whether it reads images."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from dataclasses import replace
from typing import TYPE_CHECKING

from assistant.core.errors import AssistantError, UsageError
from assistant.core.local_models import InstalledModel, LoadedModel, ModelDetails, PullStatus
from assistant.core.spec import IMAGES, MANAGE, ProviderSpec
from assistant.core.tokens import ModelFacts
from assistant.core.types import ModelRef
from assistant.engine.pulls import PullTracker
from assistant.providers.base import Manageable, ModelManager

if TYPE_CHECKING:
    from assistant.engine.engine import Engine


class LocalModels:
    """The engine's model-management facade; no provider is named, the MANAGE capability is looked up."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @property
    def spec(self) -> ProviderSpec | None:
        """The provider whose models can be pulled and removed here, if any."""
        return next((s for s in self.engine.specs.values() if s.can(MANAGE)), None)

    def can_pull(self, ref: ModelRef) -> bool:
        spec = self.engine.specs.get(ref.provider)
        return spec is not None and spec.can(MANAGE)

    def name(self, text: str) -> str:
        """A model name as typed: `llava:7b`, or with the provider in front (`<provider>:llava:7b`)."""
        spec = self.spec
        if spec is None:
            raise UsageError("No provider here can pull or remove models.")
        model = text.strip().removeprefix(f"{spec.name}:")
        return spec.ref(model).model  # checked, and in the provider's own spelling (name:latest)

    def _manager(self) -> tuple[ProviderSpec, ModelManager]:
        spec = self.spec
        if spec is None:
            raise UsageError("No provider here can pull or remove models.")
        provider = self.engine.registry.get(spec.name)
        if not isinstance(provider, Manageable):
            raise UsageError(f"The {spec.label} provider cannot manage models.")
        return spec, provider.manager()

    # managing -------------------------------------------------------------------------------------
    async def pull(self, text: str) -> AsyncGenerator[PullStatus, None]:
        """The pull as it goes, summed over its layers; closing this generator stops it (see the manager)."""
        _, manager = self._manager()
        model = self.name(text)
        tracker = PullTracker(model)
        async for event in manager.pull(model):
            yield tracker.update(event)

    async def installed(self) -> list[InstalledModel]:
        return await self._manager()[1].installed()

    async def loaded(self) -> list[LoadedModel]:
        return await self._manager()[1].loaded()

    async def show(self, text: str) -> ModelDetails:
        return await self._manager()[1].show(self.name(text))

    async def unload(self, text: str) -> None:
        await self._manager()[1].unload(self.name(text))

    async def remove(self, text: str) -> None:
        await self._manager()[1].remove(self.name(text))

    # what is known of a model -----------------------------------------------------------------------
    async def facts(self, ref: ModelRef) -> ModelFacts:
        """The provider's own knowledge first (Ollama's /api/show, the embedded model's settings), then the price
        table's."""
        try:
            facts = await self.engine.registry.get(ref.provider).model_facts(ref.model)
        except AssistantError:
            facts = ModelFacts()
        if facts.context is None:
            facts = replace(facts, context=self.engine.context_window(ref))
        price = self.engine.price(ref)
        if facts.images is None and price is not None and price.vision is not None:
            facts = replace(facts, images=price.vision)
        return facts

    async def reads_images(self, ref: ModelRef) -> bool:
        spec = self.engine.specs.get(ref.provider)
        if spec is None or not spec.can(IMAGES):
            return False
        return (await self.facts(ref)).images is not False

    async def image_model_of(self, provider: str) -> ModelRef | None:
        """A model of this provider that can answer now and reads images (a pulled vision model), if any."""
        try:
            infos = await self.engine.registry.get(provider).list_models()
        except AssistantError:
            return None
        for info in infos:
            if info.available and await self.reads_images(info.ref):
                return info.ref
        return None

    async def image_models(self) -> list[ModelRef]:
        """Models that can answer now and read images, to suggest when a request with images is refused."""
        ready = [m.ref for infos in (await self.engine.list_models()).values() for m in infos if m.available]
        reads = await asyncio.gather(*(self.reads_images(r) for r in ready))
        return [r for r, ok in zip(ready, reads, strict=True) if ok]
