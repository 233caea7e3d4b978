"""The tools bench runs against a real MCP server and reports every figure as a number (no speed is asserted)."""

from __future__ import annotations

import math

from assistant.bench import tools_bench

FIGURES = {"tools_call_raw_ms", "tools_call_ms", "tools_call_overhead_ms", "tools_call_ratio", "tools_parallel_calls",
           "tools_parallel_sequential_ms", "tools_parallel_ms", "tools_parallel_speedup"}


def test_quick_run_reports_every_figure() -> None:
    figures = tools_bench.run(quick=True)
    assert set(figures) == FIGURES
    assert all(isinstance(v, float) and math.isfinite(v) for v in figures.values())
    assert figures["tools_parallel_calls"] == 2.0
    assert figures["tools_call_raw_ms"] > 0 and figures["tools_call_ms"] > 0 and figures["tools_parallel_ms"] > 0
