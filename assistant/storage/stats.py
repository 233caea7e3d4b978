"""Savings and latency figures read from the calls table, as frozen values for the CLI and the panels."""

from __future__ import annotations

import math
import sqlite3
import time
from collections.abc import Collection
from typing import Any

from assistant.core.reports import LatencyRow, RequestPoint, RequestRow, SavingsReport
from assistant.core.types import tokens_per_second
from assistant.storage.boundary import guarded


def percentile(values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile: always a value that was actually measured."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def _where(since: float | None, extra: str = "") -> tuple[str, tuple[float, ...]]:
    clauses = [c for c in ("created_at >= ?" if since is not None else "", extra) if c]
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), ((since,) if since is not None else ())


def _day(ts: float) -> str:
    return time.strftime("%Y-%m-%d", time.localtime(ts))


@guarded
class Stats:
    """Figures over the calls table; `local` names the providers that run on this machine (from their specs)."""

    def __init__(self, conn: sqlite3.Connection, local: Collection[str]) -> None:
        self.conn = conn
        self.local = tuple(local)
        # Provider names are bound as parameters, never pasted into SQL.
        self._is_local = f"provider IN ({','.join('?' * len(self.local))})" if self.local else "0"

    def request_rows(self, since: float | None = None) -> list[RequestRow]:
        """Calls grouped by request; the row of the answer (outcome ok) names who answered."""
        where, args = _where(since)
        rows = self.conn.execute(
            "SELECT request_id, provider, model, outcome, cached, input_tokens, output_tokens, cost_usd, cost_estimated, "
            f"saved_usd, saved_source, baseline, created_at FROM calls{where} ORDER BY id", args
        ).fetchall()
        grouped: dict[str, list[Any]] = {}
        for row in rows:
            grouped.setdefault(row[0], []).append(row)
        out = []
        for rid, calls in grouped.items():
            final = next((c for c in calls if c[3] == "ok"), calls[-1])
            _, provider, model, outcome, cached, tin, tout, _, _, saved, source, base, _ = final
            if outcome != "ok":
                kind = outcome if outcome in ("interrupted", "refused") else "failed"
            else:
                kind = source if cached and source in ("semantic", "team") else (
                    "cache" if cached else ("local" if provider in self.local else "cloud"))
            out.append(RequestRow(
                rid, calls[0][12], provider, model, kind, len(calls), int(tin or 0), int(tout or 0),
                sum(c[7] or 0.0 for c in calls), float(saved or 0.0) if outcome == "ok" else 0.0, source, base,
                any(c[8] and (c[7] or c[9] or c[1] not in self.local) for c in calls),
            ))
        return out

    def savings(self, since: float | None, *, with_rows: bool = False) -> SavingsReport:
        """Totals come from one aggregate query; `rows` (on request) come from grouping, so the two can be checked."""
        where, args = _where(since)
        ok = "outcome = 'ok'"
        local = f"{ok} AND cached = 0 AND {self._is_local}"
        cloud = f"{ok} AND cached = 0 AND NOT {self._is_local}"
        # Interrupted answers were stopped by the user: neither an answer nor a failure.
        row = self.conn.execute(
            f"""SELECT count(DISTINCT request_id),
                count(DISTINCT CASE WHEN {ok} AND cached = 1 THEN request_id END),
                count(DISTINCT CASE WHEN {local} THEN request_id END),
                count(DISTINCT CASE WHEN {cloud} THEN request_id END),
                coalesce(sum(cost_usd), 0),
                coalesce(sum(CASE WHEN {ok} THEN saved_usd END), 0),
                coalesce(sum(CASE WHEN {ok} AND saved_source = 'cache' THEN saved_usd END), 0),
                coalesce(sum(CASE WHEN {ok} AND saved_source = 'local' THEN saved_usd END), 0),
                coalesce(sum(CASE WHEN {ok} AND saved_source = 'routing' THEN saved_usd END), 0),
                coalesce(sum(CASE WHEN {ok} AND (cached = 1 OR {self._is_local})
                                  THEN input_tokens + output_tokens END), 0),
                coalesce(max(cost_estimated AND (cost_usd > 0 OR saved_usd > 0 OR NOT {self._is_local})), 0),
                count(DISTINCT CASE WHEN outcome = 'interrupted' THEN request_id END),
                coalesce(sum(CASE WHEN {ok} AND saved_source = 'semantic' THEN saved_usd END), 0),
                coalesce(sum(CASE WHEN {ok} AND saved_source = 'team' THEN saved_usd END), 0)
            FROM calls{where}""", (*self.local, *self.local, *self.local, *self.local, *args)
        ).fetchone()
        requests, hits, local_n, cloud_n = (int(v) for v in row[:4])
        interrupted = int(row[11])
        base_where, base_args = _where(since, "baseline IS NOT NULL")
        baselines = [r[0] for r in self.conn.execute(
            f"SELECT baseline, max(id) AS last FROM calls{base_where} GROUP BY baseline ORDER BY last DESC", base_args)]
        return SavingsReport(
            since, requests, hits, local_n, cloud_n, max(0, requests - hits - local_n - cloud_n - interrupted),
            float(row[4]), float(row[5]), float(row[6]), float(row[7]), float(row[8]), int(row[9]),
            baselines[0] if baselines else None, tuple(baselines), bool(row[10]),
            tuple(self.request_rows(since)) if with_rows else (), interrupted, float(row[12]), float(row[13]),
        )

    def latency(self, since: float | None) -> list[LatencyRow]:
        """Per provider:model, fresh answers and cache hits apart; only answered attempts count."""
        where, args = _where(since, "outcome = 'ok'")
        groups: dict[tuple[str, str, bool], list[tuple[Any, Any, Any]]] = {}
        for provider, model, cached, ttft, total, tout in self.conn.execute(
            f"SELECT provider, model, cached, ttft_ms, total_ms, output_tokens FROM calls{where} ORDER BY id", args
        ):
            groups.setdefault((provider, model, bool(cached)), []).append((ttft, total, tout))
        out = []
        for (provider, model, cached), rows in sorted(groups.items()):
            ttfts = [r[0] for r in rows if r[0] is not None]
            totals = [r[1] for r in rows if r[1] is not None]
            # A replayed answer arrives in one piece: its "speed" would only measure the replay.
            rates = [] if cached else [x for r in rows if (x := tokens_per_second(r[2] or 0, r[0], r[1])) is not None]
            out.append(LatencyRow(provider, model, cached, len(rows), percentile(ttfts, 50), percentile(ttfts, 95),
                                  percentile(totals, 50), percentile(totals, 95), percentile(rates, 50)))
        return out

    def ttft_medians(self, recent: int = 200) -> dict[str, float]:
        """Median time to first token of each provider:model's last `recent` fresh answers (for the fastest policy)."""
        rows = self.conn.execute(
            "SELECT provider, model, ttft_ms FROM (SELECT provider, model, ttft_ms, row_number() OVER "
            "(PARTITION BY provider, model ORDER BY id DESC) AS n FROM calls "
            "WHERE outcome = 'ok' AND cached = 0 AND ttft_ms IS NOT NULL) WHERE n <= ?", (recent,)
        ).fetchall()
        values: dict[str, list[float]] = {}
        for provider, model, ttft in rows:
            values.setdefault(f"{provider}:{model}", []).append(ttft)
        return {name: percentile(v, 50) or 0.0 for name, v in values.items()}

    def savings_by_day(self, days: int) -> list[tuple[str, float]]:
        """Money saved per local calendar day, oldest first, with a zero for quiet days."""
        now = time.time()
        labels = [_day(now - 86400 * i) for i in range(max(days, 1) - 1, -1, -1)]
        t = time.localtime(now - 86400 * (max(days, 1) - 1))
        start = time.mktime((t.tm_year, t.tm_mon, t.tm_mday, 0, 0, 0, 0, 0, -1))
        totals = dict.fromkeys(labels, 0.0)
        for created, saved in self.conn.execute(
            "SELECT created_at, saved_usd FROM calls WHERE outcome = 'ok' AND created_at >= ?", (start,)
        ):
            label = _day(created)
            if label in totals:
                totals[label] += saved or 0.0
        return list(totals.items())

    def recent_requests(self, limit: int = 60) -> list[RequestPoint]:
        """The last answered requests, oldest first."""
        rows = self.conn.execute(
            "SELECT created_at, provider, model, cached, ttft_ms, total_ms, cost_usd, saved_usd FROM calls "
            "WHERE outcome = 'ok' ORDER BY id DESC LIMIT ?", (limit,)
        ).fetchall()
        return [RequestPoint(r[0], r[1], r[2], bool(r[3]), r[4], r[5] or 0.0, r[6] or 0.0, r[7] or 0.0)
                for r in reversed(rows)]
