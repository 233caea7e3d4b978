"""The bundled price table: rebuilt exactly from LiteLLM's, overridable per model, free for local models."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import pytest

from assistant.core.pricing import PriceTable
from assistant.core.resources import asset_path
from assistant.core.types import ModelRef, Usage
from assistant.engine.accounting import Accountant, choose_baseline
from assistant.providers.registry import Registry
from tests.helpers import settings

LOCAL = {"ollama", "embedded"}

ROOT = Path(__file__).resolve().parents[2]


def test_bundled_table_is_what_the_script_builds(fixtures_dir: Path) -> None:
    script = runpy.run_path(str(ROOT / "scripts" / "build_prices.py"))
    table = json.loads((fixtures_dir / "pricing" / "litellm_model_prices_and_context_window.json").read_text())
    built, missing = script["build"](table, "1.109.1", "2026-11-22")
    assert built == json.loads(asset_path("prices.json").read_text()) and missing == []
    assert built["source"].startswith("LiteLLM") and built["units"] == "USD per token"


def test_costs_overrides_and_dated_names() -> None:
    prices = PriceTable.load({"openai:gpt-4o-mini": {"input_per_mtok": 1.0}, "openai:my-tuned": {"output_per_mtok": 2.0}})
    usage = Usage(1_000_000, 1_000_000)
    assert prices.cost(ModelRef("openai", "gpt-4o-mini"), usage) == pytest.approx(1.0 + 0.6)
    assert prices.cost(ModelRef("openai", "my-tuned"), usage) == pytest.approx(2.0)
    assert prices.cost(ModelRef("anthropic", "claude-haiku-4-5-20251001"), usage) == pytest.approx(1.0 + 5.0)
    assert prices.cost(ModelRef("ollama", "llama3.2"), usage, local=True) == 0.0  # models on this machine are free
    assert prices.cost(ModelRef("openai", "gpt-unknown"), usage) is None


def test_baseline_default_and_configured() -> None:
    prices, specs = PriceTable.load(), Registry().specs()
    assert str(choose_baseline(settings(), prices, specs)) == "openai:gpt-4o-mini"  # cheapest of the three defaults
    assert str(choose_baseline(settings(openai={"model": ""}), prices, specs)) == "gemini:gemini-2.5-flash"
    assert str(choose_baseline(settings(general={"baseline_model": "openai:gpt-4o"}), prices, specs)) == "openai:gpt-4o"
    no_cloud = settings(openai={"model": ""}, anthropic={"model": ""}, gemini={"model": ""})
    assert choose_baseline(no_cloud, prices, specs) is None


def test_accountant_counterfactuals() -> None:
    prices = PriceTable.load()
    acct = Accountant(prices, ModelRef("openai", "gpt-4o"), LOCAL.__contains__)
    usage = Usage(1000, 1000)
    local = acct.fresh(ModelRef("ollama", "llama3.2"), usage)
    assert (local.cost_usd, local.saved_usd, local.saved_source) == (0.0, pytest.approx(0.0125), "local")
    cheap = acct.fresh(ModelRef("openai", "gpt-4o-mini"), usage)
    assert cheap.saved_source == "routing" and cheap.saved_usd == pytest.approx(0.0125 - 0.00075)
    dear = acct.fresh(ModelRef("anthropic", "claude-sonnet-4-5"), usage)
    assert dear.saved_usd == 0.0 and dear.saved_source is None  # never a negative saving
    hit = acct.cache_hit(ModelRef("openai", "gpt-4o-mini"), usage, original_cost=0.00075)
    assert (hit.cost_usd, hit.saved_usd, hit.saved_source) == (0.0, 0.00075, "cache")
    unpriced = acct.fresh(ModelRef("openai", "gpt-unknown"), usage)
    assert unpriced.estimated and unpriced.cost_usd == 0.0
    assert Accountant(prices, None, LOCAL.__contains__).fresh(ModelRef("ollama", "x"), usage).saved_usd == 0.0
