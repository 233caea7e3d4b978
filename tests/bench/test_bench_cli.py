"""`assistant bench --quick --json` runs end to end and reports every figure as a number (no speed is asserted)."""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
from pathlib import Path

import pytest

from tests.conftest import PYTHON, cli_env

pytestmark = pytest.mark.slow  # subprocesses, real models or builds: outside the quick loop

OWN = ("cli_import_ms", "engine_ttft_overhead_ms", "engine_token_overhead_us", "embedded_engine_vs_raw_pct",
       "embedded_raw_tokens_per_s", "embedded_engine_tokens_per_s", "storage_record_request_ms", "history_search_p50_ms",
       "history_search_p99_ms", "cli_rss_after_answer_mb")
# Every comparison with a floor is its own figure ending in _ratio, so a regression shows as a ratio.
RATIOS = ("cache_persistent_hit_p99_ratio", "cache_hot_hit_p99_ratio", "cache_conv50_persistent_hit_p99_ratio",
          "cache_conv50_hot_hit_p99_ratio", "engine_ttft_ratio", "engine_token_ratio", "history_search_p99_ratio",
          "tui_stable_vs_minimal_ratio", "tui_first_frame_ratio", "tui_idle_rss_ratio", "tools_call_ratio",
          "team_tier_hit_p99_ratio", "team_8_clients_ratio", "team_down_vs_bare_get_ratio")


def _available(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


@pytest.mark.timeout(120)
def test_quick_bench_reports_numeric_figures(isolated_env: Path) -> None:
    proc = subprocess.run([PYTHON, "-m", "assistant", "bench", "--quick", "--json"], capture_output=True, text=True,
                          env=cli_env(isolated_env), timeout=110)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    data = json.loads(proc.stdout)
    figures = data["figures"]
    for key in OWN + RATIOS:
        assert key in figures, f"{key} missing; unavailable: {data['unavailable']}"
    assert all(isinstance(v, (int, float)) and math.isfinite(v) for v in figures.values())
    assert figures["cli_rss_after_answer_mb"] > 0 and figures["embedded_raw_tokens_per_s"] > 0
    # Each target sits next to its figure, with a verdict.
    for key in ("engine_ttft_overhead_ms", "engine_token_overhead_us", "embedded_engine_vs_raw_pct"):
        assert data["targets"][key]["target"] and isinstance(data["targets"][key]["met"], bool)
    # Sections owned by other parts of the app are measured once they exist, and explained until then.
    if _available("assistant.bench.cache_bench"):
        assert any(k.startswith("cache_") for k in figures), data["unavailable"]
    else:
        assert "cache" in data["unavailable"]
    if _available("assistant.bench.startup"):
        assert {"tui_import_ms", "tui_first_paint_ms", "tui_idle_rss_mb"} <= set(figures), data["unavailable"]
    else:
        assert "TUI" in data["unavailable"]


@pytest.mark.timeout(60)
def test_table_puts_targets_next_to_figures() -> None:
    from assistant.bench.runner import BenchResult, render_table

    table = render_table(BenchResult({"engine_token_overhead_us": 60.0, "embedded_engine_vs_raw_pct": 97.0,
                                      "cache_persistent_hit_p99_us": 12.0, "cache_persistent_hit_p99_ratio": 1.2},
                                     {"TUI": "LookupError: not built"}, 3.0))
    assert any("ratio" in line and "<= 1.5 x" in line and line.rstrip().endswith("ok") for line in table.splitlines())
    lines = table.splitlines()
    assert any("overhead" in line and "<= 10 us" in line and "MISSED" in line for line in lines)
    assert any("engine / raw" in line and ">= 95 %" in line and line.rstrip().endswith("ok") for line in lines)
    assert any("persistent hit p99" in line for line in lines)
    assert "Not measured: TUI" in table
