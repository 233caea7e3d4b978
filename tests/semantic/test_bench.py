"""The semantic bench section returns named figures (its timings are reported by `assistant bench`, not tested)."""

from __future__ import annotations

import math

import pytest

from assistant.bench import semantic_bench


@pytest.mark.slow
def test_run_quick_returns_finite_figures_named_by_unit() -> None:
    figures = semantic_bench.run(quick=True)
    assert all(k.startswith("semantic_") and k.endswith(("_ms", "_pct")) for k in figures), sorted(figures)
    assert all(math.isfinite(v) for v in figures.values())
    for key in ("semantic_lookup_p50_ms", "semantic_lookup_p99_ms", "semantic_embed_p50_ms",
                "semantic_index_load_ms", "semantic_single_precision_pct", "semantic_conversations_precision_pct",
                "semantic_paraphrase_recall_pct", "semantic_different_offer_wrong_pct"):
        assert key in figures
    assert figures["semantic_single_precision_pct"] == 100.0
