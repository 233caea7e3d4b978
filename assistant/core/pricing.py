"""Prices per token from the bundled table plus config overrides, and what a usage costs."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from assistant.core.resources import asset_path
from assistant.core.types import ModelRef, Usage


@dataclass(frozen=True)
class Price:
    input_per_token: float
    output_per_token: float
    quality: int = 2
    context: int = 0  # most input tokens the model takes; 0 when the table does not say
    vision: bool | None = None  # whether it reads images; None when the table does not say

    def cost(self, usage: Usage) -> float:
        return usage.input_tokens * self.input_per_token + usage.output_tokens * self.output_per_token


FREE = Price(0.0, 0.0, quality=1)


class PriceTable:
    """Local models are free; cloud models use the bundled LiteLLM-derived table unless overridden."""

    def __init__(self, models: Mapping[str, Price], source: str = "") -> None:
        self.models = dict(models)
        self.source = source

    @classmethod
    def load(cls, overrides: Mapping[str, Mapping[str, float]] | None = None) -> PriceTable:
        data = json.loads(asset_path("prices.json").read_text(encoding="utf-8"))
        models = {
            name: Price(entry["input_per_token"], entry["output_per_token"], int(entry.get("quality", 2)),
                        int(entry.get("context") or 0), entry.get("vision"))
            for name, entry in data["models"].items()
        }
        for name, entry in (overrides or {}).items():
            base = models.get(name, Price(0.0, 0.0))
            models[name] = Price(
                entry.get("input_per_mtok", base.input_per_token * 1e6) / 1e6,
                entry.get("output_per_mtok", base.output_per_token * 1e6) / 1e6,
                base.quality, base.context, base.vision,
            )
        return cls(models, f"{data.get('source', '')}, {data.get('date', '')}")

    def price(self, ref: ModelRef, *, local: bool = False) -> Price | None:
        """What a model charges; models on this machine are free."""
        if local:
            return FREE
        return self.models.get(str(ref)) or self._dated(ref)

    def _dated(self, ref: ModelRef) -> Price | None:
        # Providers return dated names (claude-haiku-4-5-20251001, gpt-4o-mini-2024-07-18) for the same price.
        for name, price in self.models.items():
            if str(ref).startswith(name + "-"):
                return price
        return None

    def cost(self, ref: ModelRef, usage: Usage, *, local: bool = False) -> float | None:
        price = self.price(ref, local=local)
        return None if price is None else price.cost(usage)

    def models_of(self, provider: str) -> list[str]:
        """Model names the table prices for one provider."""
        return [name.partition(":")[2] for name in self.models if name.partition(":")[0] == provider]
