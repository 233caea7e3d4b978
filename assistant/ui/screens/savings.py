"""Savings panel: spent and saved per period, split by source, tokens saved, hit rate, baseline, per-day chart."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from assistant.core.money import usd
from assistant.ui.messages import SavingsLoaded
from assistant.ui.widgets.bar_chart import BarChart
from assistant.ui.worker_errors import ForwardWorkerFailures

if TYPE_CHECKING:
    from assistant.engine.queries import Queries

CHART_DAYS = 14


def periods(now: float) -> list[tuple[str, float | None]]:
    t = time.localtime(now)
    midnight = time.mktime((t.tm_year, t.tm_mon, t.tm_mday, 0, 0, 0, 0, 0, -1))
    return [("today", midnight), ("7 days", now - 7 * 86400), ("30 days", now - 30 * 86400), ("all time", None)]


class SavingsScreen(ForwardWorkerFailures, Screen[None]):
    BINDINGS = [Binding("escape", "app.pop_screen", "Back"), Binding("r", "reload", "Reload")]

    def __init__(self, queries: Queries) -> None:
        super().__init__(id="savings")
        self.queries = queries

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll():
            yield DataTable(id="savings-table", cursor_type="row", zebra_stripes=True)
            yield Static("", id="savings-notes", markup=False)
            yield BarChart(f"Saved per day, last {CHART_DAYS} days", id="savings-chart")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Savings"
        table = self.query_one(DataTable)
        table.add_columns("period", "requests", "spent", "saved", "cache", "local", "routing", "tokens saved",
                          "cache hit rate")
        self.action_reload()

    def action_reload(self) -> None:
        self.load(time.time())

    @work(thread=True, exclusive=True, exit_on_error=False, group="stats")
    def load(self, now: float) -> None:
        q = self.queries
        self.post_message(SavingsLoaded([(label, q.savings(since)) for label, since in periods(now)],
                                        q.savings_by_day(CHART_DAYS), q.baseline()))

    def on_savings_loaded(self, message: SavingsLoaded) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for label, r in message.periods:
            rate = f"{r.cache_hits / r.requests:.0%}" if r.requests else "-"
            est = "~" if r.estimated else ""
            table.add_row(label, f"{r.requests:,}", f"{usd(r.spent_usd)}{est}", f"{usd(r.saved_usd)}{est}",
                          usd(r.saved_cache_usd), usd(r.saved_local_usd), usd(r.saved_routing_usd),
                          f"{r.tokens_saved:,}", rate, key=label)
        overall = message.periods[-1][1]
        baseline = overall.baseline or message.baseline
        notes = [f"Savings are measured against {baseline}: what the same tokens would have cost there."
                 if baseline else "No cloud baseline yet: savings appear once a cloud model has a price."]
        if overall.estimated:
            notes.append("~ some token counts were estimated (the provider did not report usage).")
        self.query_one("#savings-notes", Static).update("\n".join(notes))
        rows = [(day[5:], saved) for day, saved in message.by_day]
        self.query_one(BarChart).plot(rows if any(v for _, v in rows) else [], "$", "Nothing saved in this period yet.")
