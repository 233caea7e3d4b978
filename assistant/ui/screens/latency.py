"""Latency panel: per model time to first token and total time p50/p95, tokens/s, count; recent requests chart."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from assistant.core.textsafe import for_terminal
from assistant.core.units import FIRST_TOKEN_MEANS, SPEED_MEANS, ms, speed
from assistant.ui.messages import LatencyLoaded
from assistant.ui.widgets.bar_chart import BarChart
from assistant.ui.worker_errors import ForwardWorkerFailures

if TYPE_CHECKING:
    from assistant.engine.queries import Queries

RECENT = 20


class LatencyScreen(ForwardWorkerFailures, Screen[None]):
    BINDINGS = [Binding("escape", "app.pop_screen", "Back"), Binding("r", "reload", "Reload")]

    def __init__(self, queries: Queries) -> None:
        super().__init__(id="latency")
        self.queries = queries

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll():
            yield DataTable(id="latency-table", cursor_type="row", zebra_stripes=True)
            yield Static(f"{FIRST_TOKEN_MEANS}.\n{SPEED_MEANS}; the chat shows the same figures for each answer.",
                         id="latency-notes", markup=False)
            yield BarChart(f"Total time of the last {RECENT} requests", id="latency-chart")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Latency"
        self.query_one(DataTable).add_columns("model", "source", "requests", "first token p50", "first token p95",
                                              "total p50", "total p95", "tokens/s")
        self.action_reload()

    def action_reload(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="stats")
    def load(self) -> None:
        self.post_message(LatencyLoaded(self.queries.latency(None), self.queries.recent_requests(RECENT)))

    def on_latency_loaded(self, message: LatencyLoaded) -> None:
        table = self.query_one(DataTable)
        table.clear()
        local = set(self.queries.local_providers)
        for row in message.rows:
            source = "cache hit" if row.cached else "local" if row.provider in local else "cloud"
            rate = speed(row.tokens_per_s)
            table.add_row(for_terminal(row.name), source, f"{row.count:,}", ms(row.ttft_p50_ms), ms(row.ttft_p95_ms),
                          ms(row.total_p50_ms), ms(row.total_p95_ms), rate)
        if not message.rows:
            table.add_row("no answered requests yet", "", "", "", "", "", "", "")
        points = [(f"{time.strftime('%H:%M', time.localtime(p.created_at))} {for_terminal(p.model[:16])}"
                   f"{' (cache)' if p.cached else ''}", p.total_ms) for p in message.recent]
        self.query_one(BarChart).plot(points, "ms", "No requests yet.")
