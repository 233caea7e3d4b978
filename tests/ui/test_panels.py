"""Savings and latency panels show the same figures the stats queries compute from the database."""

from __future__ import annotations

import time

from textual.widgets import DataTable

from assistant.core.money import usd as money
from assistant.core.types import ModelRef
from tests.helpers import ScriptedProvider, Usage
from tests.ui.conftest import SIZE, ask, offline_providers, ready, settle


def table_rows(app, selector: str) -> list[list[str]]:
    table = app.screen.query_one(selector, DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def seeded(pilot) -> None:
    """A local answer, a cache hit of it, and a paid cloud answer."""
    await ask(pilot, "what is two plus two")
    await pilot.press("ctrl+n")
    await ask(pilot, "what is two plus two")
    await pilot.press("ctrl+n")
    pilot.app.chat.model = ModelRef("openai", "gpt-4o-mini")
    await ask(pilot, "a cloud question")


def providers() -> list[ScriptedProvider]:
    return [*offline_providers(["Four.", Usage(6, 2)]),
            ScriptedProvider("openai", [["Cloud answer.", Usage(1000, 500)]], local=False, model="gpt-4o-mini")]


async def test_savings_panel_matches_database(build_app):
    app, engine = build_app(providers(), environ={"OPENAI_API_KEY": "sk-test-0000"})
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await seeded(pilot)
        assert app.chat.log_view.answers()[-1].text == "Cloud answer."
        await pilot.press("f5")
        await settle(pilot)
        report = engine.queries.savings(None)
        assert (report.requests, report.cache_hits, report.local_answers, report.cloud_answers) == (3, 1, 1, 1)
        assert report.spent_usd > 0 and report.saved_usd > 0
        rows = {r[0]: r for r in table_rows(app, "#savings-table")}
        assert list(rows) == ["today", "7 days", "30 days", "all time"]
        assert rows["all time"][1:] == [
            "3", money(report.spent_usd), money(report.saved_usd), money(report.saved_cache_usd),
            money(report.saved_local_usd), money(report.saved_routing_usd), f"{report.tokens_saved:,}", "33%"]
        assert rows["today"][1:] == rows["all time"][1:]
        notes = str(app.screen.query_one("#savings-notes").render())
        assert report.baseline and report.baseline in notes
        chart = str(app.screen.query_one("#savings-chart").render())
        today_saved = dict(engine.queries.savings_by_day(1))[time.strftime("%Y-%m-%d")]
        assert money(today_saved) in chart


async def test_latency_panel_matches_database(build_app):
    app, engine = build_app(providers(), environ={"OPENAI_API_KEY": "sk-test-0000"})
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await seeded(pilot)
        await pilot.press("f6")
        await settle(pilot)
        expected = engine.queries.latency(None)
        rows = table_rows(app, "#latency-table")
        assert [r[:3] for r in rows] == [[e.name, "cache hit" if e.cached else "local" if e.provider == "embedded"
                                          else "cloud", str(e.count)] for e in expected]
        for row, e in zip(rows, expected, strict=False):
            assert row[3] == ("-" if e.ttft_p50_ms is None else f"{e.ttft_p50_ms:,.0f} ms")
            assert row[6] == ("-" if e.total_p95_ms is None else f"{e.total_p95_ms:,.0f} ms")
        chart = str(app.screen.query_one("#latency-chart").render())
        assert len(chart.splitlines()) == len(engine.queries.recent_requests(20)) == 3
        await pilot.press("escape")
        assert app.screen is app.chat


async def test_empty_panels_say_so(build_app):
    app, _ = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("f5")
        await settle(pilot)
        assert "Nothing saved" in str(app.screen.query_one("#savings-chart").render())
        await pilot.press("escape", "f6")
        await settle(pilot)
        assert table_rows(app, "#latency-table")[0][0] == "no answered requests yet"
