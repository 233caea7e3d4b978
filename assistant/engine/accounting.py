"""What an answer cost, and what it saved against the named cloud baseline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from assistant.engine.pricing import PriceTable
from assistant.engine.types import CLOUD_PROVIDERS, ModelRef, Usage

if TYPE_CHECKING:
    from assistant.config import Settings


@dataclass(frozen=True)
class Money:
    cost_usd: float
    saved_usd: float
    saved_source: str | None  # cache, local, routing or None
    baseline: str | None
    estimated: bool


class Accountant:
    """Savings are counterfactual: what the baseline model would have charged for the same tokens."""

    def __init__(self, prices: PriceTable, baseline: ModelRef | None) -> None:
        self.prices = prices
        self.baseline = baseline

    def baseline_cost(self, usage: Usage) -> float:
        if self.baseline is None:
            return 0.0
        return self.prices.cost(self.baseline, usage) or 0.0

    def fresh(self, ref: ModelRef, usage: Usage) -> Money:
        """An answer a provider just produced."""
        base = str(self.baseline) if self.baseline else None
        if ref.local:
            return Money(0.0, self.baseline_cost(usage), "local", base, usage.estimated)
        cost = self.prices.cost(ref, usage)
        if cost is None:
            return Money(0.0, 0.0, None, base, True)
        routing = self.baseline_cost(usage) - cost
        if routing > 0:
            return Money(cost, routing, "routing", base, usage.estimated)
        return Money(cost, 0.0, None, base, usage.estimated)

    def cache_hit(self, ref: ModelRef, usage: Usage, original_cost: float) -> Money:
        """A hit of a cloud answer saves exactly what it cost; of a local one, the baseline price."""
        base = str(self.baseline) if self.baseline else None
        saved = original_cost if not ref.local and original_cost > 0 else self.baseline_cost(usage)
        return Money(0.0, saved, "cache", base, usage.estimated)


def cloud_chain(settings: "Settings") -> list[ModelRef]:
    """The cloud models the router falls back to, in provider order."""
    return [ModelRef(p, getattr(settings, p).model) for p in CLOUD_PROVIDERS if getattr(settings, p).model]


def choose_baseline(settings: "Settings", prices: PriceTable) -> ModelRef | None:
    """The configured baseline, else the cheapest priced cloud model in the fallback chain (for a typical 1:1 mix)."""
    if settings.general.baseline_model:
        return ModelRef.parse(settings.general.baseline_model)
    priced = [(p.input_per_token + p.output_per_token, str(r), r) for r in cloud_chain(settings)
              if (p := prices.price(r)) is not None]
    return min(priced)[2] if priced else None


def estimate_tokens(chars: int) -> int:
    """About four characters a token for English; used only when a provider reports no usage."""
    return max(1, (chars + 3) // 4) if chars else 0
