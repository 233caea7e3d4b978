"""`assistant cache stats | clear | prune | forget`: what the caches hold and saved, keeping them small and right."""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import TYPE_CHECKING, Any

from assistant.cli.common import engine, tty_safe
from assistant.core.errors import UsageError
from assistant.core.reports import CacheStats, HitWindow, SimilarStats
from assistant.core.textsafe import for_terminal

if TYPE_CHECKING:
    from assistant.core.reports import CacheStats, HitWindow, TeamStatus
    from assistant.engine.engine import Engine

_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 7 * 86400.0}


def register(sub: Any) -> None:
    p = sub.add_parser("cache", help="response cache: stats, clear, prune, forget")
    actions = p.add_subparsers(dest="cache_action", metavar="ACTION")
    s = actions.add_parser("stats", help="entries, size, hit rate and what the cache saved")
    s.add_argument("--json", action="store_true", help="print the figures as JSON")
    s.set_defaults(handler=run_stats)
    c = actions.add_parser("clear", help="delete cached answers and similar-question entries (all unless filtered)")
    c.add_argument("--provider", help="only answers from this provider, e.g. openai")
    c.add_argument("--model", help="only answers from this model, e.g. gpt-4o-mini or openai:gpt-4o-mini")
    c.add_argument("--older-than", dest="older_than", help="only answers older than this, e.g. 30d, 12h, 2w")
    c.set_defaults(handler=run_clear)
    r = actions.add_parser("prune", help="apply the TTL and size limits, then compact the database")
    r.add_argument("--json", action="store_true", help="print what was removed as JSON")
    r.set_defaults(handler=run_prune)
    f = actions.add_parser("forget", help="mark an answer reused from a similar question as wrong: that pair never "
                                          "matches again")
    f.add_argument("id", nargs="?", type=int, help="the answer's id (the route line shows it); default: the latest")
    f.set_defaults(handler=run_forget)
    p.set_defaults(handler=lambda args: p.print_help() or 0)


def parse_age(text: str) -> float:
    """'30d' -> seconds; s, m, h, d and w are understood."""
    value, unit = text.strip()[:-1], text.strip()[-1:].lower()
    try:
        amount = float(value)
    except ValueError:
        amount = -1.0
    if unit not in _UNITS or not math.isfinite(amount) or amount < 0:
        raise UsageError(f"'{text}' is not an age; use a number and a unit, e.g. 30d, 12h, 90m or 2w.")
    return amount * _UNITS[unit]


def model_filter(opened: Engine, provider: str | None, model: str | None) -> tuple[str | None, tuple[str, ...]]:
    """Accept `model` or `provider:model`; a bare name also matches the provider's canonical spelling of it
    (Ollama stores `name` as `name:latest`)."""
    names = opened.registry.names
    if model:
        head, sep, tail = model.partition(":")
        if sep and head in names:
            if provider and provider != head:
                raise UsageError(f"--provider {provider} and --model {model} disagree; give the provider once.")
            provider, model = head, tail
    if provider and provider not in names:
        raise UsageError(f"Unknown provider '{provider}'; choose one of {', '.join(names)}.")
    if not model:
        return provider, ()
    spellings = {model}
    for name, spec in opened.specs.items():
        if provider in (None, name):
            spellings.add(spec.canonical_model(model))
    return provider, tuple(sorted(spellings))


def _mb(n: float) -> str:
    return f"{n / 1024 / 1024:.1f} MB"


def _window(w: HitWindow) -> dict[str, Any]:
    rate = w.hit_rate
    return {"hits": w.hits, "misses": w.misses, "hit_rate": None if rate is None else round(rate, 4),
            "tokens_saved": w.tokens_saved, "usd_saved": round(w.usd_saved, 8)}


def similar_data(s: SimilarStats) -> dict[str, Any]:
    return {"mode": s.mode, "entries": s.entries, "hits": s.hits, "hits_last_7_days": s.hits_7_days,
            "usd_saved": round(s.saved_usd, 8), "near_misses": s.near_misses, "declined": s.declined,
            "marked_wrong": s.forgotten, "questions_embedded": s.embedded, "lookups_by_embedder": s.lookups,
            "problem": s.problem}


def stats_data(stats: CacheStats, similar: SimilarStats | None = None) -> dict[str, Any]:
    return {
        "entries": stats.entries, "bytes": stats.bytes, "database_bytes": stats.database_bytes,
        "limits": {"ttl_days": stats.ttl_days, "max_entries": stats.max_entries, "max_bytes": stats.max_bytes,
                   "hot_entries": stats.hot_entries},
        "all_time": _window(stats.all_time), "last_7_days": _window(stats.last_7_days),
        **({"semantic": similar_data(similar)} if similar is not None else {}),
    }


TEAM_COUNTS = ("hits", "misses", "tampered", "skipped", "late", "writes", "dropped", "errors")


def team_data(status: TeamStatus | None, totals: dict[str, int]) -> dict[str, Any] | None:
    """The team cache now (probed) and its counts over every process that used it; None when none is set up."""
    if status is None:
        return None
    counts = {name: totals.get(name, 0) + getattr(status, name) for name in TEAM_COUNTS}
    return {"state": status.state, "server": status.where, "sharing": status.sharing,
            "retry_in_s": round(status.retry_in_s, 1), "last_error": status.last_error or None, "all_time": counts}


def _n(count: int, one: str, many: str = "") -> str:
    return f"{count:,} {one if count == 1 else many or one + 's'}"


def _team_lines(team: dict[str, Any]) -> list[str]:
    n = team["all_time"]
    where = f" at {team['server']}" if team["server"] else ""
    sharing = "sharing this install's answers" if team["sharing"] else "reading only (share = false)"
    lines = [f"team       {team['state']}{where}; {sharing}",
             f"           all time: {_n(n['hits'], 'hit')}, {_n(n['misses'], 'miss', 'misses')}, "
             f"{_n(n['writes'], 'answer')} shared; {_n(n['tampered'], 'entry', 'entries')} rejected (forged or "
             f"damaged, never shown); {_n(n['skipped'] + n['late'], 'lookup')} skipped while it was down or slow; "
             f"{_n(n['dropped'], 'answer')} not shared"]
    if team["last_error"]:
        lines.append(f"           last problem: {team['last_error']}")
    return lines


def _rate(w: dict[str, Any]) -> str:
    rate = "no lookups yet" if w["hit_rate"] is None else f"{w['hit_rate'] * 100:.1f}%"
    return f"{rate} ({w['hits']:,} hits, {w['misses']:,} misses)"


def run_stats(args: argparse.Namespace) -> int:
    with engine() as opened:
        data = stats_data(opened.queries.cache_stats(), opened.queries.similar_stats())
        data["team"] = team_data(opened.team_status(probe=True), opened.queries.team_totals())
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
    if data["team"] is not None:
        for line in _team_lines(data["team"]):
            print(for_terminal(line))
    for line in similar_lines(data["semantic"]):
        print(line)
    return 0


def similar_lines(s: dict[str, Any]) -> list[str]:
    """The similar-question tier: what it holds, what it served and refused, which model embeds."""
    if s["mode"] == "off":
        return ["similar    off ([cache] semantic = \"off\")"]
    used = ", ".join(f"{name} ({n:,} lookups)" for name, n in sorted(s["lookups_by_embedder"].items(),
                                                                       key=lambda kv: -kv[1])) or "none yet"
    lines = [f"similar    {s['mode']}: {s['entries']:,} questions; {s['hits']:,} answers reused "
             f"({s['hits_last_7_days']:,} in the last 7 days), saved ${s['usd_saved']:.4f}",
             f"           near misses {s['near_misses']:,} (a close question refused), declined {s['declined']:,}, "
             f"marked wrong {s['marked_wrong']:,}",
             f"embedder   {used}"]
    if s["problem"]:
        lines.append(f"           not available here: {s['problem']}")
    return lines


def run_clear(args: argparse.Namespace) -> int:
    older = parse_age(args.older_than) if args.older_than else None
    with engine() as opened:
        provider, models = model_filter(opened, args.provider, args.model)
        before = opened.queries.similar_stats().entries
        removed = opened.queries.cache_clear(provider=provider, models=models, older_than=older)
        similar = before - opened.queries.similar_stats().entries
    also = f" and {similar:,} similar-question entr{'y' if similar == 1 else 'ies'}" if similar else ""
    print(f"Removed {removed:,} cached answer{'' if removed == 1 else 's'}{also}.")
    return 0


def run_forget(args: argparse.Namespace) -> int:
    with engine() as opened:
        mid, similarity, prompt = opened.queries.forget_similar(args.id)
    earlier = f" to \"{tty_safe(prompt)}\"" if prompt else ""
    print(f"Answer {mid} (the answer{earlier}, {similarity:.0%} alike) is marked wrong: that question will not get it "
          "again.")
    return 0


def run_prune(args: argparse.Namespace) -> int:
    with engine() as opened:
        before = opened.queries.cache_stats()
        result = opened.queries.cache_prune()
        after = opened.queries.cache_stats()
    data = {"expired": result.expired, "evicted": result.evicted, "old_scheme": result.old_scheme,
            "entries": after.entries, "bytes": after.bytes,
            "database_bytes_before": before.database_bytes, "database_bytes_after": after.database_bytes}
    if args.json:
        sys.stdout.write(json.dumps(data) + "\n")
        return 0
    print(f"Removed {result.removed:,} entries ({result.expired:,} expired, {result.evicted:,} over the limits, "
          f"{result.old_scheme:,} from an older key scheme); {after.entries:,} remain.")
    print(f"Database {_mb(before.database_bytes)} -> {_mb(after.database_bytes)}.")
    return 0
