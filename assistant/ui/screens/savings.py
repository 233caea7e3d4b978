"""Savings panel: spent and saved per period, split by source, tokens saved, hit rate, baseline, per-day chart."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from textual import work
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from assistant.ui.worker_errors import ForwardWorkerFailures
from assistant.ui.messages import StatsLoaded
from assistant.ui.widgets.answer_view import money
from assistant.ui.widgets.bar_chart import BarChart

CHART_DAYS = 14


@dataclass(frozen=True)
class SavingsFigures:
    periods: list[tuple[str, Any]]
    by_day: list[tuple[str, float]]


def periods(now: float) -> list[tuple[str, float | None]]:
    t = time.localtime(now)
    midnight = time.mktime((t.tm_year, t.tm_mon, t.tm_mday, 0, 0, 0, 0, 0, -1))
    return [("today", midnight), ("7 days", now - 7 * 86400), ("30 days", now - 30 * 86400), ("all time", None)]


def load_savings(conn: Any, now: float) -> SavingsFigures:
    from assistant.storage.stats import savings_by_day, savings_report

    return SavingsFigures([(label, savings_report(conn, since)) for label, since in periods(now)],
                          savings_by_day(conn, CHART_DAYS))


class SavingsScreen(ForwardWorkerFailures, Screen):
    BINDINGS = [Binding("escape", "app.pop_screen", "Back"), Binding("r", "reload", "Reload")]

    def __init__(self, conn: Any) -> None:
        super().__init__(id="savings")
        self.conn = conn

    def compose(self):  # type: ignore[no-untyped-def]
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

    @work(exclusive=True, exit_on_error=False, group="stats")
    async def load(self, now: float) -> None:
        self.post_message(StatsLoaded("savings", load_savings(self.conn, now)))

    def on_stats_loaded(self, message: StatsLoaded) -> None:
        figures: SavingsFigures = message.data
        table = self.query_one(DataTable)
        table.clear()
        for label, r in figures.periods:
            rate = f"{r.cache_hits / r.requests:.0%}" if r.requests else "-"
            est = "~" if r.estimated else ""
            table.add_row(label, f"{r.requests:,}", f"{money(r.spent_usd)}{est}", f"{money(r.saved_usd)}{est}",
                          money(r.saved_cache_usd), money(r.saved_local_usd), money(r.saved_routing_usd),
                          f"{r.tokens_saved:,}", rate, key=label)
        overall = figures.periods[-1][1]
        notes = [f"Savings are measured against {overall.baseline}: what the same tokens would have cost there."
                 if overall.baseline else "No cloud baseline yet: savings appear once a cloud model has a price."]
        if overall.estimated:
            notes.append("~ some token counts were estimated (the provider did not report usage).")
        self.query_one("#savings-notes", Static).update("\n".join(notes))
        rows = [(day[5:], saved) for day, saved in figures.by_day]
        self.query_one(BarChart).plot(rows if any(v for _, v in rows) else [], "$", "Nothing saved in this period yet.")
