"""Latency panel: per model time to first token and total time p50/p95, tokens/s, count; recent requests chart."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from textual import work
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header

from assistant.ui.worker_errors import ForwardWorkerFailures
from assistant.ui.messages import StatsLoaded
from assistant.ui.widgets.bar_chart import BarChart

RECENT = 20


@dataclass(frozen=True)
class LatencyFigures:
    rows: list[Any]
    recent: list[Any]


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f} ms"


def load_latency(conn: Any) -> LatencyFigures:
    from assistant.storage.stats import latency_report, recent_requests

    return LatencyFigures(latency_report(conn, None), recent_requests(conn, RECENT))


class LatencyScreen(ForwardWorkerFailures, Screen):
    BINDINGS = [Binding("escape", "app.pop_screen", "Back"), Binding("r", "reload", "Reload")]

    def __init__(self, conn: Any) -> None:
        super().__init__(id="latency")
        self.conn = conn

    def compose(self):  # type: ignore[no-untyped-def]
        yield Header()
        with VerticalScroll():
            yield DataTable(id="latency-table", cursor_type="row", zebra_stripes=True)
            yield BarChart(f"Total time of the last {RECENT} requests", id="latency-chart")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Latency"
        self.query_one(DataTable).add_columns("model", "source", "requests", "first token p50", "first token p95",
                                              "total p50", "total p95", "tokens/s")
        self.action_reload()

    def action_reload(self) -> None:
        self.load()

    @work(exclusive=True, exit_on_error=False, group="stats")
    async def load(self) -> None:
        self.post_message(StatsLoaded("latency", load_latency(self.conn)))

    def on_stats_loaded(self, message: StatsLoaded) -> None:
        figures: LatencyFigures = message.data
        table = self.query_one(DataTable)
        table.clear()
        for row in figures.rows:
            source = "cache hit" if row.cached else "local" if row.provider in ("ollama", "embedded") else "cloud"
            rate = "-" if row.tokens_per_s is None else f"{row.tokens_per_s:,.1f}"
            table.add_row(row.name, source, f"{row.count:,}", ms(row.ttft_p50_ms), ms(row.ttft_p95_ms),
                          ms(row.total_p50_ms), ms(row.total_p95_ms), rate)
        if not figures.rows:
            table.add_row("no answered requests yet", "", "", "", "", "", "", "")
        points = [(f"{time.strftime('%H:%M', time.localtime(p.created_at))} {p.model[:16]}{' (cache)' if p.cached else ''}",
                   p.total_ms) for p in figures.recent]
        self.query_one(BarChart).plot(points, "ms", "No requests yet.")
