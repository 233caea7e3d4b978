"""The team cache benchmark runs against its own redis-server and reports every figure as a finite number."""

from __future__ import annotations

import math

from assistant.bench.team_bench import run

FIGURES = ("team_hit_p50_us", "team_hit_p99_us", "team_bare_get_p50_us", "team_bare_get_p99_us", "team_hit_p99_ratio",
           "team_8_clients_ops_per_s", "team_bare_8_clients_ops_per_s", "team_8_clients_ratio",
           "team_down_get_p50_us", "team_down_get_p99_us", "team_down_vs_bare_get_ratio", "team_put_caller_p99_us",
           "team_payload_bytes", "team_answer_bytes", "team_payload_json_object_bytes")


def test_quick_team_bench_reports_every_figure() -> None:
    figures = run(quick=True)
    assert sorted(figures) == sorted(FIGURES + ("team_hit_p50_ratio",))
    assert all(math.isfinite(v) and v > 0 for v in figures.values())
    # Sizes are not speeds: the sealed, compressed entry is smaller than the answer it carries.
    assert figures["team_payload_bytes"] < figures["team_answer_bytes"] < figures["team_payload_json_object_bytes"]
