"""`assistant cache stats | clear | prune`: what the response cache holds and saved, and keeping it small."""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import time
from dataclasses import dataclass
from typing import Any

from assistant.errors import DatabaseLocked, UsageError

_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 7 * 86400.0}
WEEK = 7 * 86400.0


@dataclass(frozen=True)
class HitCounts:
    """Hits are answers replayed from the cache; misses are fresh answers to requests that looked first."""

    hits: int
    misses: int
    tokens_saved: int
    usd_saved: float

    @property
    def hit_rate(self) -> float | None:
        asked = self.hits + self.misses
        return self.hits / asked if asked else None


def hit_counts(conn: sqlite3.Connection, since: float = 0.0) -> HitCounts:
    """Add up the calls table since `since`: cached rows are hits, fresh answers to requests that looked are misses."""
    row = conn.execute(
        "SELECT total(cached = 1), total(cached = 0 AND outcome = 'ok' AND cache_eligible = 1), "
        "total(CASE WHEN cached = 1 THEN input_tokens + output_tokens END), "
        "total(CASE WHEN cached = 1 THEN saved_usd END) FROM calls WHERE created_at >= ?",
        (since,),
    ).fetchone()
    return HitCounts(int(row[0]), int(row[1]), int(row[2]), float(row[3]))


def register(sub: Any) -> None:
    p = sub.add_parser("cache", help="response cache: stats, clear, prune")
    actions = p.add_subparsers(dest="cache_action", metavar="ACTION")
    s = actions.add_parser("stats", help="entries, size, hit rate and what the cache saved")
    s.add_argument("--json", action="store_true", help="print the figures as JSON")
    s.set_defaults(handler=run_stats)
    c = actions.add_parser("clear", help="delete cached answers (all of them unless filtered)")
    c.add_argument("--provider", help="only answers from this provider, e.g. openai")
    c.add_argument("--model", help="only answers from this model, e.g. gpt-4o-mini or openai:gpt-4o-mini")
    c.add_argument("--older-than", dest="older_than", help="only answers older than this, e.g. 30d, 12h, 2w")
    c.set_defaults(handler=run_clear)
    r = actions.add_parser("prune", help="apply the TTL and size limits, then compact the database")
    r.add_argument("--json", action="store_true", help="print what was removed as JSON")
    r.set_defaults(handler=run_prune)
    p.set_defaults(handler=lambda args: p.print_help() or 0)


def parse_age(text: str) -> float:
    """'30d' -> seconds; s, m, h, d and w are understood."""
    value, unit = text.strip()[:-1], text.strip()[-1:].lower()
    try:
        amount = float(value)
    except ValueError:
        amount = -1.0
    if unit not in _UNITS or amount < 0:
        raise UsageError(f"'{text}' is not an age; use a number and a unit, e.g. 30d, 12h, 90m or 2w.")
    return amount * _UNITS[unit]


def model_filter(provider: str | None, model: str | None) -> tuple[str | None, tuple[str, ...]]:
    """Accept `model` or `provider:model`; Ollama's `name` also matches `name:latest`, as the cache stores it."""
    from assistant.providers.registry import PROVIDERS

    if model:
        head, sep, tail = model.partition(":")
        if sep and head in PROVIDERS:
            if provider and provider != head:
                raise UsageError(f"--provider {provider} and --model {model} disagree; give the provider once.")
            provider, model = head, tail
    if provider and provider not in PROVIDERS:
        raise UsageError(f"Unknown provider '{provider}'; choose one of {', '.join(PROVIDERS)}.")
    if not model:
        return provider, ()
    models = (model,) if ":" in model or provider not in (None, "ollama") else (model, model + ":latest")
    return provider, models


def _open() -> tuple[Any, sqlite3.Connection]:
    from assistant.cli.context import load
    from assistant.storage.cache import ResponseCache
    from assistant.storage.db import open_database

    paths, settings = load()
    opened = open_database(paths.database)
    if opened.moved_aside is not None:
        print(f"assistant: The database was damaged; it was kept as {opened.moved_aside} and a fresh one was started.",
              file=sys.stderr)
    return ResponseCache.from_settings(opened.conn, settings.cache), opened.conn


def _locked(exc: sqlite3.OperationalError) -> DatabaseLocked:
    return DatabaseLocked(f"The database is busy ({exc}); close other assistant windows and try again.")


def stats_data(cache: Any, conn: sqlite3.Connection, now: float | None = None) -> dict[str, Any]:
    now = time.time() if now is None else now
    entries, size = cache.size()
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    limits = cache.limits

    def window(since: float) -> dict[str, Any]:
        counts = hit_counts(conn, since)
        rate = counts.hit_rate
        return {"hits": counts.hits, "misses": counts.misses, "hit_rate": None if rate is None else round(rate, 4),
                "tokens_saved": counts.tokens_saved, "usd_saved": round(counts.usd_saved, 8)}

    return {
        "entries": entries, "bytes": size, "database_bytes": page_size * pages,
        "limits": {"ttl_days": limits.ttl_seconds / 86400, "max_entries": limits.max_entries,
                   "max_bytes": limits.max_bytes, "hot_entries": limits.hot_entries},
        "all_time": window(0.0), "last_7_days": window(now - WEEK),
    }


def _mb(n: float) -> str:
    return f"{n / 1024 / 1024:.1f} MB"


def _rate(w: dict[str, Any]) -> str:
    rate = "no lookups yet" if w["hit_rate"] is None else f"{w['hit_rate'] * 100:.1f}%"
    return f"{rate} ({w['hits']:,} hits, {w['misses']:,} misses)"


def run_stats(args: argparse.Namespace) -> int:
    cache, conn = _open()
    data = stats_data(cache, conn)
    if args.json:
        sys.stdout.write(json.dumps(data) + "\n")
        return 0
    lim, all_, week = data["limits"], data["all_time"], data["last_7_days"]
    most_n = f"{lim['max_entries']:,}" if lim["max_entries"] > 0 else "no limit"
    most_b = _mb(lim["max_bytes"]) if lim["max_bytes"] > 0 else "no limit"
    print(f"entries    {data['entries']:,} (most {most_n}), {_mb(data['bytes'])} (most {most_b}); "
          f"database file {_mb(data['database_bytes'])}")
    print(f"hit rate   all time {_rate(all_)}; last 7 days {_rate(week)}")
    print(f"saved      all time ${all_['usd_saved']:.4f} and {all_['tokens_saved']:,} tokens; "
          f"last 7 days ${week['usd_saved']:.4f} and {week['tokens_saved']:,} tokens")
    return 0


def run_clear(args: argparse.Namespace) -> int:
    provider, models = model_filter(args.provider, args.model)
    older = parse_age(args.older_than) if args.older_than else None
    cache, _ = _open()
    try:
        removed = cache.clear(provider=provider, models=models, older_than=older)
    except sqlite3.OperationalError as exc:
        raise _locked(exc) from exc
    print(f"Removed {removed:,} cached answer{'' if removed == 1 else 's'}.")
    return 0


def run_prune(args: argparse.Namespace) -> int:
    cache, conn = _open()
    before = stats_data(cache, conn)
    try:
        result = cache.prune(old_schemes=True)
        cache.compact()
    except sqlite3.OperationalError as exc:
        raise _locked(exc) from exc
    after = stats_data(cache, conn)
    data = {"expired": result.expired, "evicted": result.evicted, "old_scheme": result.old_scheme,
            "entries": after["entries"], "bytes": after["bytes"],
            "database_bytes_before": before["database_bytes"], "database_bytes_after": after["database_bytes"]}
    if args.json:
        sys.stdout.write(json.dumps(data) + "\n")
        return 0
    print(f"Removed {result.removed:,} entries ({result.expired:,} expired, {result.evicted:,} over the limits, "
          f"{result.old_scheme:,} from an older key scheme); {after['entries']:,} remain.")
    print(f"Database {_mb(before['database_bytes'])} -> {_mb(after['database_bytes'])}.")
    return 0
