"""`assistant savings` and `assistant latency`: what the assistant saved and how fast it answered."""

from __future__ import annotations

import argparse
import re
import time
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from assistant.cli.common import engine
from assistant.core.errors import UsageError
from assistant.core.money import usd
from assistant.core.textsafe import for_terminal, to_json
from assistant.core.units import speed

if TYPE_CHECKING:
    from assistant.core.reports import LatencyRow, SavingsReport

_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_since(text: str | None, now: float | None = None) -> float | None:
    """`7d`, `24h`, `30m`, `2w`, a date (2026-11-01) or `all`; None means all time."""
    if text is None or text.strip().lower() in ("", "all"):
        return None
    value = text.strip().lower()
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([mhdw])", value)
    if match:
        return (now or time.time()) - float(match.group(1)) * _UNITS[match.group(2)]
    try:
        return time.mktime(time.strptime(value, "%Y-%m-%d"))
    except ValueError:
        raise UsageError(f"--since '{text}' is not a period; use e.g. 7d, 24h, 30m, 2w, 2026-11-01 or all.") from None


def register(sub: Any) -> None:
    p = sub.add_parser("savings", help="money spent and saved, against a named cloud baseline")
    p.add_argument("--since", help="period: 7d, 24h, 2w, 2026-11-01 or all (default: all)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--rows", action="store_true", help="include one row per request (with --json, or as a table)")
    p.set_defaults(handler=run_savings)
    p = sub.add_parser("latency", help="time to first token and total time per model")
    p.add_argument("--since", help="period: 7d, 24h, 2w, 2026-11-01 or all (default: all)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=run_latency)


def _usd(value: float) -> float:
    return round(value, 8)


def savings_json(report: SavingsReport, baseline: str | None) -> dict[str, object]:
    out: dict[str, object] = {
        "since": report.since, "baseline": report.baseline or baseline, "baselines": list(report.baselines),
        "requests": report.requests, "cache_hits": report.cache_hits, "local_answers": report.local_answers,
        "cloud_answers": report.cloud_answers, "failed": report.failed,
        "spent_usd": _usd(report.spent_usd), "saved_usd": _usd(report.saved_usd),
        "interrupted": report.interrupted,
        "saved_by_source": {"cache": _usd(report.saved_cache_usd), "semantic": _usd(report.saved_semantic_usd),
                            "team": _usd(report.saved_team_usd), "local": _usd(report.saved_local_usd),
                            "routing": _usd(report.saved_routing_usd)},
        "tokens_saved": report.tokens_saved, "estimated": report.estimated,
    }
    if report.rows:
        out["rows"] = [{**asdict(r), "cost_usd": _usd(r.cost_usd), "saved_usd": _usd(r.saved_usd)} for r in report.rows]
    return out


def savings_text(report: SavingsReport, baseline: str | None, since_label: str) -> str:
    base = report.baseline or baseline
    lines = [
        f"Savings {since_label}",
        f"  requests       {report.requests} (cache hits {report.cache_hits}, local {report.local_answers}, "
        f"cloud {report.cloud_answers}, failed {report.failed}, stopped {report.interrupted})",
        f"  spent          {usd(report.spent_usd)}",
        f"  saved          {usd(report.saved_usd)}" + (f" against {base}" if base else " (no cloud baseline priced)"),
        f"    cache          {usd(report.saved_cache_usd)}",
        f"    similar        {usd(report.saved_semantic_usd)}",
        f"    team cache     {usd(report.saved_team_usd)}",
        f"    local models   {usd(report.saved_local_usd)}",
        f"    cheaper route  {usd(report.saved_routing_usd)}",
        f"  tokens saved   {report.tokens_saved:,}",
    ]
    if len(report.baselines) > 1:
        lines.append(f"  (the baseline changed during this period: {', '.join(report.baselines)})")
    if report.estimated:
        lines.append("  Some figures are estimated: a provider did not report token counts.")
    for r in report.rows:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(r.created_at))
        est = " (est.)" if r.estimated else ""
        name = for_terminal(f"{r.provider}:{r.model}")
        lines.append(f"  {when}  {r.kind:<11} {name:<36} spent {usd(r.cost_usd)}  "
                     f"saved {usd(r.saved_usd)}{est}")
    return "\n".join(lines)


def _label(since: float | None, text: str | None) -> str:
    if since is None:
        return "(all time)"
    return f"since {time.strftime('%Y-%m-%d %H:%M', time.localtime(since))} ({text})"


def run_savings(args: argparse.Namespace) -> int:
    since = parse_since(args.since)
    with engine() as opened:
        report = opened.queries.savings(since, with_rows=args.rows)
        baseline = opened.queries.baseline()
    if args.json:
        print(to_json(savings_json(report, baseline)))
    else:
        print(savings_text(report, baseline, _label(since, args.since)))
    return 0


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.1f}" if value < 10 else f"{value:,.0f}"


def latency_text(rows: list[LatencyRow], since_label: str) -> str:
    if not rows:
        return f"No answers recorded {since_label}; ask something first."
    head = f"{'model':<36} {'n':>5} {'ttft p50':>9} {'p95':>7} {'total p50':>10} {'p95':>7} {'tok/s':>6}"
    out = [f"Latency in ms {since_label}"]
    for cached, title in ((False, "answers"), (True, "cache hits")):
        group = [r for r in rows if r.cached == cached]
        if not group:
            continue
        out += ["", title, head]
        for r in group:
            rate = speed(r.tokens_per_s)
            out.append(f"{for_terminal(r.name):<36} {r.count:>5} {_ms(r.ttft_p50_ms):>9} {_ms(r.ttft_p95_ms):>7} "
                       f"{_ms(r.total_p50_ms):>10} {_ms(r.total_p95_ms):>7} {rate:>6}")
    return "\n".join(out)


def run_latency(args: argparse.Namespace) -> int:
    since = parse_since(args.since)
    with engine() as opened:
        rows = opened.queries.latency(since)
    if args.json:
        data = {"since": since, "models": [{**asdict(r), "name": r.name} for r in rows]}
        print(to_json(data))
    else:
        print(latency_text(rows, _label(since, args.since)))
    return 0
