"""The team cache benchmark runs against its own redis-server and reports every figure as a finite number."""

from __future__ import annotations

import math

from assistant.bench.runner import CONTEXT_ONLY, FIGURES
from assistant.bench.team_bench import run
from tests.conftest import needs_redis

pytestmark = needs_redis


def test_quick_team_bench_reports_every_figure() -> None:
    figures = run(quick=True)
    shown = {k for k in FIGURES if k.startswith("team_")}
    context = {k for k in CONTEXT_ONLY if k.startswith("team_")}
    assert set(figures) == shown | context
    assert all(math.isfinite(v) and v > 0 for v in figures.values())
    # Every comparison with its floor is a ratio; the targets are on the tier's own figures.
    assert {k for k in figures if k.endswith("_ratio")} == {"team_tier_hit_p50_ratio", "team_tier_hit_p99_ratio",
                                                           "team_8_clients_ratio", "team_down_vs_bare_get_ratio"}
    assert FIGURES["team_tier_hit_p99_us"].target == 1000.0 and FIGURES["team_down_lookup_p99_us"].target == 1000.0
    # Sizes are not speeds: the sealed, compressed entry is smaller than the answer it carries.
    assert figures["team_payload_bytes"] < figures["team_answer_bytes"] < figures["team_payload_json_object_bytes"]
