"""Savings and latency queries, and the reconciliation of `assistant savings --json` with the per-request rows."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from assistant.cli.stats import parse_since
from assistant.core.errors import Overloaded, ProviderUnavailable, UsageError
from assistant.core.records import CallRecord
from assistant.core.types import ChatRequest, ModelRef, Usage
from assistant.engine.engine import Engine
from assistant.main import main
from assistant.storage.calls import CallLog
from assistant.storage.db import open_database
from assistant.storage.history import History
from assistant.storage.stats import Stats, percentile
from tests.helpers import ScriptedProvider, collect, finished, make_engine, settings

MINI = 0.15e-6, 0.6e-6  # openai:gpt-4o-mini, the default baseline
GPT4O = 2.5e-6, 10e-6


def engine_at(home: Path, providers: list[ScriptedProvider], **general: object) -> Engine:
    """An engine whose database is the one `assistant savings` reads under `home`."""
    cfg = settings(general=general, anthropic={"model": ""}, gemini={"model": ""}, network={"retry_max_wait": 0.0})
    return make_engine(home, providers, cfg, {"OPENAI_API_KEY": "sk-test-0000"})


def stats(conn: Any) -> Stats:
    return Stats(conn, ("ollama", "embedded"))


async def run_mix(engine: Engine, ollama: ScriptedProvider) -> list:
    """Local answers, cloud answers, repeats of both (cache hits), a failed request and a cheaper-route answer."""
    answers = []
    for i in range(4):
        answers.append(finished(await collect(engine, ChatRequest(f"local question {i}"))).answer)
    ollama.available = False
    for i in range(3):
        answers.append(finished(await collect(engine, ChatRequest(f"cloud question {i}"))).answer)
    for prompt in ("local question 0", "local question 1", "cloud question 0", "cloud question 2"):
        answers.append(finished(await collect(engine, ChatRequest(prompt))).answer)
    ollama.scripts = [ProviderUnavailable("Ollama is not running", provider="ollama")]
    failed = await collect(engine, ChatRequest("nobody answers", model=ModelRef("ollama", "llama3.2:latest")))
    assert failed[-1].__class__.__name__ == "Failed"
    return answers


@pytest.fixture
def providers() -> list[ScriptedProvider]:
    return [
        ScriptedProvider("ollama", [["Local answer.", Usage(30_000, 10_000)]], model="llama3.2:latest"),
        ScriptedProvider("embedded", [[]], available=False, model="smollm2"),
        ScriptedProvider("openai", [["Cloud answer.", Usage(100_000, 40_000)]], local=False, model="gpt-4o-mini"),
    ]


async def test_savings_reconcile_with_rows_and_answers(isolated_env: Path, providers: list[ScriptedProvider],
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    engine = engine_at(isolated_env, providers, baseline_model="openai:gpt-4o")
    answers = await run_mix(engine, providers[0])
    await engine.aclose()

    assert main(["savings", "--json", "--rows"]) == 0
    data = json.loads(capsys.readouterr().out)
    rows = data["rows"]
    assert data["baseline"] == "openai:gpt-4o"
    assert (data["requests"], data["cache_hits"], data["local_answers"], data["cloud_answers"], data["failed"]) == (12, 4, 4, 3, 1)
    # The totals equal the sum of the per-request rows, and of what each answer reported, to the cent.
    for total, field in (("spent_usd", "cost_usd"), ("saved_usd", "saved_usd")):
        assert round(data[total], 2) == round(sum(r[field] for r in rows), 2)
        assert data[total] == pytest.approx(sum(r[field] for r in rows), abs=1e-9)
    assert data["spent_usd"] == pytest.approx(sum(a.cost_usd for a in answers), abs=1e-9)
    assert data["saved_usd"] == pytest.approx(sum(a.saved_usd for a in answers), abs=1e-9)
    by_source = data["saved_by_source"]
    assert sum(by_source.values()) == pytest.approx(data["saved_usd"], abs=1e-9)
    for source in ("cache", "local", "routing"):
        assert by_source[source] == pytest.approx(sum(r["saved_usd"] for r in rows if r["saved_source"] == source), abs=1e-9)

    # The money itself: counterfactual against gpt-4o, and a cloud cache hit saves exactly its original cost.
    cloud_cost = 100_000 * MINI[0] + 40_000 * MINI[1]
    local_saved = 30_000 * GPT4O[0] + 10_000 * GPT4O[1]
    assert data["spent_usd"] == pytest.approx(3 * cloud_cost)
    assert by_source["local"] == pytest.approx(4 * local_saved)
    assert by_source["routing"] == pytest.approx(3 * (100_000 * GPT4O[0] + 40_000 * GPT4O[1] - cloud_cost))
    assert by_source["cache"] == pytest.approx(2 * local_saved + 2 * cloud_cost)
    assert data["tokens_saved"] == 6 * 40_000 + 2 * 140_000  # local answers and cache hits never went to a paid call

    assert main(["savings"]) == 0
    text = capsys.readouterr().out
    assert "against openai:gpt-4o" in text and f"${data['saved_usd']:,.4f}" in text


async def test_since_filters_by_time(isolated_env: Path, providers: list[ScriptedProvider]) -> None:
    engine = engine_at(isolated_env, providers)
    await collect(engine, ChatRequest("old"))
    engine.conn.execute("UPDATE calls SET created_at = created_at - 10 * 86400")
    await collect(engine, ChatRequest("new"))
    assert stats(engine.conn).savings(parse_since("7d")).requests == 1
    assert stats(engine.conn).savings(None).requests == 2
    # the default baseline is the cheapest cloud model in the fallback chain, and it is named
    assert stats(engine.conn).savings(None).baseline == "openai:gpt-4o-mini"
    await engine.aclose()


def record(history: History, provider: str, ttft: float, total: float, out: int = 11, cached: bool = False,
           outcome: str = "ok") -> None:
    CallLog(history.conn).record(CallRecord("r", None, None, provider, "m", outcome, 5, out, cached=cached, ttft_ms=ttft,
                                   total_ms=total, saved_usd=0.5))


def test_latency_percentiles_and_cache_apart(tmp_path: Path) -> None:
    history = History(open_database(tmp_path / "l.db").conn)
    for i in range(1, 21):  # ttft 10..200 ms, total = ttft + 1000 ms for 10 more tokens: 10 tok/s
        record(history, "ollama", i * 10.0, i * 10.0 + 1000)
    record(history, "ollama", 1.0, 2.0, cached=True)
    record(history, "ollama", 5000.0, 9000.0, outcome="error")  # failed attempts are not latency samples
    fresh, hit = stats(history.conn).latency(None)
    assert (fresh.name, fresh.cached, fresh.count, hit.cached, hit.count) == ("ollama:m", False, 20, True, 1)
    assert (fresh.ttft_p50_ms, fresh.ttft_p95_ms, fresh.total_p50_ms) == (100.0, 190.0, 1100.0)
    assert fresh.tokens_per_s == pytest.approx(10.0)
    assert percentile([], 50) is None and percentile([3.0], 95) == 3.0


def test_day_series_and_recent_points(tmp_path: Path) -> None:
    history = History(open_database(tmp_path / "d.db").conn)
    record(history, "ollama", 1, 2)
    record(history, "ollama", 1, 2)
    record(history, "openai", 3, 4)
    history.conn.execute("UPDATE calls SET created_at = created_at - 86400 WHERE id = 1")
    days = stats(history.conn).savings_by_day(3)
    assert [d for d, _ in days] == [time.strftime("%Y-%m-%d", time.localtime(time.time() - 86400 * i)) for i in (2, 1, 0)]
    assert [v for _, v in days] == [0.0, 0.5, 1.0]
    points = stats(history.conn).recent_requests(limit=2)
    assert [p.provider for p in points] == ["ollama", "openai"]


def test_parse_since() -> None:
    now = 1_000_000.0
    assert parse_since("7d", now) == now - 7 * 86400 and parse_since("90m", now) == now - 5400
    assert parse_since("all") is None and parse_since(None) is None
    assert parse_since("2026-11-01") == time.mktime((2026, 11, 1, 0, 0, 0, 0, 0, -1))
    with pytest.raises(UsageError, match="not a period"):
        parse_since("last week")


def test_failed_retry_rows_add_no_money(tmp_path: Path) -> None:
    cloud = ScriptedProvider("openai", [Overloaded("busy", provider="openai"), ["ok", Usage(1000, 1000)]], local=False,
                             model="gpt-4o-mini")
    engine = engine_at(tmp_path / "f", [ScriptedProvider("ollama", [[]], available=False),
                                           ScriptedProvider("embedded", [[]], available=False), cloud])
    import asyncio

    answer = finished(asyncio.run(collect(engine, ChatRequest("hi")))).answer
    report = stats(engine.conn).savings(None, with_rows=True)
    assert report.spent_usd == pytest.approx(answer.cost_usd) and report.rows[0].attempts == 2
    assert report.cloud_answers == 1 and report.failed == 0
