"""The similar-question bench section returns named figures (its timings are reported by `assistant bench`, not tested)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from assistant.bench import runner, semantic_bench


@pytest.mark.slow
def test_run_quick_returns_finite_figures_named_by_unit(tmp_path: Path) -> None:
    figures = semantic_bench.run(quick=True, workdir=tmp_path)
    assert all(k.startswith("semantic_") for k in figures), sorted(figures)
    assert all(math.isfinite(v) for v in figures.values())
    for category in runner.SEMANTIC_SHOULD_HIT:
        assert f"semantic_{category}_recall_pct" in figures
    for category in runner.SEMANTIC_MUST_MISS:
        assert figures[f"semantic_{category}_precision_pct"] >= 99.0  # the hard set's floor, on the real model
    for key in ("semantic_lookup_p50_ms", "semantic_lookup_p99_ms", "semantic_lookup_vs_scan_ratio",
                "semantic_replay_repeats_caught_pct", "semantic_pooled_single_precision_pct"):
        assert key in figures and runner.FIGURES[key].area == "semantic"
    assert figures["semantic_replay_wrong_answers"] == 0


def test_the_labelled_set_is_found_and_the_wheel_carries_it() -> None:
    found = semantic_bench.data_dir()
    assert found is not None and len(semantic_bench.pairs()) >= 400
    pyproject = (Path(__file__).parents[2] / "pyproject.toml").read_text(encoding="utf-8")
    assert '"tests/semantic/data" = "assistant/bench/semantic_data"' in pyproject
