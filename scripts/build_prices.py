"""Rebuild assets/prices.json from LiteLLM's maintained price table (USD per token)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = ROOT / "tests" / "fixtures" / "pricing" / "litellm_model_prices_and_context_window.json"

# provider -> (LiteLLM key prefix, models we support with their quality tier: 1 small, 2 capable, 3 frontier)
MODELS: dict[str, tuple[str, dict[str, int]]] = {
    "openai": ("", {"gpt-4o-mini": 2, "gpt-4o": 3, "gpt-4.1-nano": 1, "gpt-4.1-mini": 2, "gpt-4.1": 3,
                    "gpt-5-nano": 1, "gpt-5-mini": 2, "gpt-5": 3, "o4-mini": 3}),
    "anthropic": ("", {"claude-haiku-4-5": 2, "claude-sonnet-4-5": 3, "claude-opus-4-5": 3}),
    "gemini": ("gemini/", {"gemini-2.5-flash-lite": 1, "gemini-2.5-flash": 2, "gemini-2.5-pro": 3}),
}


def build(table: dict[str, dict[str, object]], litellm_version: str, date: str) -> tuple[dict[str, object], list[str]]:
    """The bundled table and the names LiteLLM has no price for (those stay unpriced, never guessed)."""
    models: dict[str, dict[str, object]] = {}
    missing: list[str] = []
    for provider, (prefix, wanted) in MODELS.items():
        for name, tier in wanted.items():
            entry = table.get(prefix + name)
            if not entry or "input_cost_per_token" not in entry or "output_cost_per_token" not in entry:
                missing.append(f"{provider}:{name}")
                continue
            models[f"{provider}:{name}"] = {
                "input_per_token": entry["input_cost_per_token"],
                "output_per_token": entry["output_cost_per_token"],
                "context": entry.get("max_input_tokens") or 0,
                "quality": tier,
                "vision": bool(entry.get("supports_vision")),
            }
    out = {
        "source": f"LiteLLM model_prices_and_context_window.json (litellm {litellm_version})",
        "date": date,
        "units": "USD per token",
        "models": dict(sorted(models.items())),
    }
    return out, missing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("source", nargs="?", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--litellm-version", default="1.109.1", help="the litellm release the table came from")
    parser.add_argument("--date", default="2026-11-22", help="the day the table was downloaded")
    parser.add_argument("--out", type=Path, default=ROOT / "assets" / "prices.json")
    args = parser.parse_args(argv)
    out, missing = build(json.loads(args.source.read_text(encoding="utf-8")), args.litellm_version, args.date)
    args.out.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(out['models'])} models to {args.out}")  # type: ignore[arg-type]
    if missing:
        print(f"no LiteLLM price for: {', '.join(missing)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
