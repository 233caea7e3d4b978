"""What an answer cost, and what it saved against the named cloud baseline."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from assistant.core.config import Settings
from assistant.core.pricing import PriceTable
from assistant.core.spec import ProviderSpec
from assistant.core.types import ModelRef, Usage


@dataclass(frozen=True)
class Money:
    cost_usd: float
    saved_usd: float
    saved_source: str | None  # cache, semantic, team, local, routing or None
    baseline: str | None
    estimated: bool


class Accountant:
    """Savings are counterfactual: what the baseline model would have charged for the same tokens."""

    def __init__(self, prices: PriceTable, baseline: ModelRef | None, is_local: Callable[[str], bool]) -> None:
        self.prices = prices
        self.baseline = baseline
        self.is_local = is_local

    def baseline_cost(self, usage: Usage) -> float:
        if self.baseline is None:
            return 0.0
        return self.prices.cost(self.baseline, usage) or 0.0

    def cost(self, ref: ModelRef, usage: Usage) -> float | None:
        return self.prices.cost(ref, usage, local=self.is_local(ref.provider))

    def fresh(self, ref: ModelRef, usage: Usage) -> Money:
        """An answer a provider just produced."""
        base = str(self.baseline) if self.baseline else None
        if self.is_local(ref.provider):
            return Money(0.0, self.baseline_cost(usage), "local", base, usage.estimated)
        cost = self.prices.cost(ref, usage)
        if cost is None:
            return Money(0.0, 0.0, None, base, True)
        routing = self.baseline_cost(usage) - cost
        if routing > 0:
            return Money(cost, routing, "routing", base, usage.estimated)
        return Money(cost, 0.0, None, base, usage.estimated)

    def cache_hit(self, ref: ModelRef, usage: Usage, original_cost: float, source: str = "cache") -> Money:
        """A hit of a cloud answer saves exactly what it cost; of a local one, the baseline price."""
        base = str(self.baseline) if self.baseline else None
        local = self.is_local(ref.provider)
        saved = original_cost if not local and original_cost > 0 else self.baseline_cost(usage)
        return Money(0.0, saved, source, base, usage.estimated)


def cloud_chain(settings: Settings, specs: Mapping[str, ProviderSpec]) -> list[ModelRef]:
    """The default model of each cloud provider, in registry order: the models the router falls back to."""
    return settings.default_refs(specs, local=False)


def choose_baseline(settings: Settings, prices: PriceTable, specs: Mapping[str, ProviderSpec]) -> ModelRef | None:
    """The configured baseline, else the cheapest priced cloud model in the fallback chain (for a typical 1:1 mix)."""
    if settings.general.baseline_model:
        return ModelRef.parse(settings.general.baseline_model)
    priced = [(p.input_per_token + p.output_per_token, str(r), r) for r in cloud_chain(settings, specs)
              if (p := prices.price(r)) is not None]
    return min(priced)[2] if priced else None


def estimate_tokens(chars: int) -> int:
    """About four characters a token for English; used only when a provider reports no usage."""
    return max(1, (chars + 3) // 4) if chars else 0
