"""Rebuild assets/prices.json from LiteLLM's maintained price table (USD per token)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

# provider -> (LiteLLM key prefix, models we support, quality tier 1 = small .. 3 = frontier)
MODELS: dict[str, tuple[str, dict[str, int]]] = {
    "openai": ("", {"gpt-4o-mini": 2, "gpt-4o": 3, "gpt-4.1-nano": 1, "gpt-4.1-mini": 2, "gpt-4.1": 3,
                    "gpt-5-nano": 1, "gpt-5-mini": 2, "gpt-5": 3, "o4-mini": 3}),
    "anthropic": ("", {"claude-haiku-4-5": 2, "claude-sonnet-4-5": 3, "claude-opus-4-1": 3,
                       "claude-3-5-haiku-20241022": 2, "claude-sonnet-4-20250514": 3, "claude-opus-4-20250514": 3}),
    "gemini": ("gemini/", {"gemini-2.5-flash-lite": 1, "gemini-2.5-flash": 2, "gemini-2.5-pro": 3, "gemini-2.0-flash": 2}),
}


def build(source: Path, litellm_version: str) -> dict[str, object]:
    table = json.loads(source.read_text())
    models: dict[str, dict[str, float | int]] = {}
    for provider, (prefix, wanted) in MODELS.items():
        for name, tier in wanted.items():
            entry = table.get(prefix + name)
            if not entry or "input_cost_per_token" not in entry:
                continue
            models[f"{provider}:{name}"] = {
                "input_per_token": entry["input_cost_per_token"],
                "output_per_token": entry["output_cost_per_token"],
                "context": entry.get("max_input_tokens") or 0,
                "quality": tier,
            }
    return {
        "source": f"LiteLLM model_prices_and_context_window.json (litellm {litellm_version})",
        "units": "USD per token",
        "models": dict(sorted(models.items())),
    }


if __name__ == "__main__":
    src = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("../shared/fixtures/pricing/litellm_model_prices_and_context_window.json")
    out = build(src, sys.argv[2] if len(sys.argv) > 2 else "1.109.1")
    out["date"] = "2026-11-22"
    Path("assets/prices.json").write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {len(out['models'])} models")  # type: ignore[arg-type]
