"""Runs every benchmark section, then prints one table with each target next to its figure (or the figures as JSON)."""

from __future__ import annotations

import math
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO


@dataclass(frozen=True)
class Figure:
    """How one figure is shown, and the target it is held to (if any)."""

    area: str
    label: str
    unit: str
    target: float | None = None
    higher_is_better: bool = False
    or_equal: bool = False  # the target itself still passes (a ceiling such as "within 1.3x")

    def target_text(self) -> str:
        if self.target is None:
            return ""
        return f"{'>=' if self.higher_is_better else '<=' if self.or_equal else '<'} {self.target:g} {self.unit}"

    def met(self, value: float) -> bool | None:
        if self.target is None:
            return None
        if self.higher_is_better:
            return value >= self.target
        return value <= self.target if self.or_equal else value < self.target


FIGURES: dict[str, Figure] = {
    # start-up: ours next to the minimal Textual app (Header, Input, Footer) under the same pty, alternated
    "tui_first_paint_ms": Figure("start-up", "TUI launch to first frame", "ms"),
    "tui_minimal_first_paint_ms": Figure("start-up", "  floor: minimal Textual app", "ms"),
    "tui_first_frame_ratio": Figure("start-up", "  ratio", "x", 1.1, or_equal=True),
    "tui_stable_screen_ms": Figure("start-up", "TUI launch to stable screen", "ms"),
    "tui_minimal_stable_screen_ms": Figure("start-up", "  floor: minimal Textual app", "ms"),
    "tui_stable_vs_minimal_ratio": Figure("start-up", "  ratio", "x", 1.2, or_equal=True),
    "tui_import_ms": Figure("start-up", "TUI import (fresh interpreter)", "ms"),
    "cli_import_ms": Figure("start-up", "CLI import (fresh interpreter)", "ms"),
    "local_first_token_s": Figure("start-up", "launch to first token, embedded", "s"),
    "offline_first_token_s": Figure("start-up", "same, clouds keyed but unreachable", "s"),
    # cache: ours (key from the request, then the cache) next to blake3 of the same bytes and a plain lookup
    "cache_persistent_hit_p99_us": Figure("cache", "persistent hit p99, 1 KB request", "us"),
    "cache_persistent_hit_floor_p99_us": Figure("cache", "  floor: blake3 + plain sqlite3 SELECT", "us"),
    "cache_persistent_hit_p99_ratio": Figure("cache", "  ratio", "x", 1.5, or_equal=True),
    "cache_hot_hit_p99_us": Figure("cache", "hot-tier hit p99, 1 KB request", "us"),
    "cache_hot_hit_floor_p99_us": Figure("cache", "  floor: blake3 + OrderedDict LRU", "us"),
    "cache_hot_hit_p99_ratio": Figure("cache", "  ratio", "x", 1.5, or_equal=True),
    "cache_conv50_persistent_hit_p99_us": Figure("cache", "persistent hit p99, 50-turn conversation", "us"),
    "cache_conv50_persistent_hit_floor_p99_us": Figure("cache", "  floor", "us"),
    "cache_conv50_persistent_hit_p99_ratio": Figure("cache", "  ratio", "x", 1.5, or_equal=True),
    "cache_conv50_hot_hit_p99_us": Figure("cache", "hot-tier hit p99, 50-turn conversation", "us"),
    "cache_conv50_hot_hit_floor_p99_us": Figure("cache", "  floor", "us"),
    "cache_conv50_hot_hit_p99_ratio": Figure("cache", "  ratio", "x", 1.5, or_equal=True),
    "cache_persistent_miss_p99_us": Figure("cache", "persistent miss p99", "us"),
    "cache_cached_ask_s": Figure("cache", "cached `assistant ask`, whole process", "s"),
    "cache_python_pass_s": Figure("cache", "  floor: `python -c pass`", "s"),
    "cache_cached_ask_over_python_s": Figure("cache", "  over the floor", "s", 0.08, or_equal=True),
    # engine: Engine.chat reading a loopback Ollama stream next to bare httpx reading the same stream
    "engine_ttft_ms": Figure("engine", "first token, Engine.chat", "ms"),
    "engine_ttft_raw_ms": Figure("engine", "  floor: bare httpx", "ms"),
    "engine_ttft_overhead_ms": Figure("engine", "  overhead", "ms", 1.0, or_equal=True),
    "engine_ttft_ratio": Figure("engine", "  ratio", "x"),
    "engine_token_us": Figure("engine", "per token, Engine.chat", "us"),
    "engine_token_raw_us": Figure("engine", "  floor: bare httpx", "us"),
    "engine_token_overhead_us": Figure("engine", "  overhead", "us", 10.0, or_equal=True),
    "engine_token_ratio": Figure("engine", "  ratio", "x"),
    "embedded_engine_tokens_per_s": Figure("embedded", "through Engine.chat", "tok/s"),
    "embedded_raw_tokens_per_s": Figure("embedded", "  floor: raw llama-cpp-python", "tok/s"),
    "embedded_engine_vs_raw_pct": Figure("embedded", "  engine / raw", "%", 95.0, True),
    "history_search_p99_ms": Figure("storage", "history search p99", "ms", 20.0, or_equal=True),
    "history_search_floor_p99_ms": Figure("storage", "  floor: the FTS5 query alone", "ms"),
    "history_search_p99_ratio": Figure("storage", "  ratio", "x"),
    "history_search_p50_ms": Figure("storage", "history search p50", "ms"),
    "storage_record_request_ms": Figure("storage", "record one request (20 chunks)", "ms"),
    "storage_append_chunk_us": Figure("storage", "persist one streamed chunk", "us"),
    "tui_idle_rss_mb": Figure("memory", "idle TUI RSS", "MB"),
    "tui_minimal_idle_rss_mb": Figure("memory", "  floor: minimal Textual app", "MB"),
    "tui_idle_rss_ratio": Figure("memory", "  ratio", "x", 1.2, or_equal=True),
    "cli_rss_after_answer_mb": Figure("memory", "CLI RSS after one answer (Ollama)", "MB"),
    "cli_rss_after_embedded_answer_mb": Figure("memory", "CLI RSS after one answer (embedded)", "MB"),
    # team: a hit through the engine's team tier next to a bare redis-py GET of the same key, same loopback server
    "team_tier_hit_p50_us": Figure("team", "team-tier hit p50, loopback Redis, 2 KB answer", "us"),
    "team_tier_hit_p50_ratio": Figure("team", "  ratio to a bare redis-py GET", "x"),
    "team_tier_hit_p99_us": Figure("team", "team-tier hit p99", "us", 1000.0, or_equal=True),
    "team_bare_get_p99_us": Figure("team", "  floor: bare redis-py GET", "us"),
    "team_tier_hit_p99_ratio": Figure("team", "  ratio", "x"),
    "team_client_hit_p99_us": Figure("team", "  the client's part (no reader thread)", "us"),
    "team_8_clients_ops_per_s": Figure("team", "8 installs at once (processes)", "lookups/s"),
    "team_bare_8_clients_ops_per_s": Figure("team", "  floor: 8 bare redis-py clients", "GETs/s"),
    "team_8_clients_ratio": Figure("team", "  ratio", "x"),
    "team_down_lookup_p99_us": Figure("team", "lookup with the server down, after the first failure, p99", "us",
                                      1000.0),
    "team_down_vs_bare_get_ratio": Figure("team", "  ratio to a bare GET's p50", "x"),
    "team_put_caller_p99_us": Figure("team", "sharing an answer, as the request sees it, p99", "us"),
    # tools: the same MCP tool call through ToolHub (consent, runner, timeout, cap) and through a bare SDK session
    "tools_call_ms": Figure("tools", "one MCP tool call through ToolHub, p50", "ms"),
    "tools_call_raw_ms": Figure("tools", "  floor: the same call, bare SDK session", "ms"),
    "tools_call_overhead_ms": Figure("tools", "  overhead", "ms"),
    "tools_call_ratio": Figure("tools", "  ratio", "x"),
    "tools_parallel_sequential_ms": Figure("tools", "slow calls of one turn, one after another", "ms"),
    "tools_parallel_ms": Figure("tools", "  the same calls side by side", "ms"),
    "tools_parallel_speedup": Figure("tools", "  speed-up", "x"),
    "semantic_lookup_p50_ms": Figure("semantic", "similar-question lookup p50 (embedding included)", "ms", 15.0),
    "semantic_lookup_p99_ms": Figure("semantic", "similar-question lookup p99", "ms", 40.0),
    "semantic_float32_scan_p50_ms": Figure("semantic", "bare float32 scan of the same vectors p50", "ms"),
    "semantic_float32_scan_p99_ms": Figure("semantic", "bare float32 scan p99", "ms"),
    "semantic_lookup_vs_scan_ratio": Figure("semantic", "lookup / bare scan, p50", "x", 1.0, or_equal=True),
    "semantic_warm_ms": Figure("semantic", "load the embedding model and the index", "ms"),
    "semantic_replay_repeats_caught_pct": Figure("semantic", "replay: reworded repeats caught", "%"),
    "semantic_replay_precision_pct": Figure("semantic", "replay: served answers that were right", "%", 99.0, True),
    "semantic_single_precision_pct": Figure("semantic", "precision, single questions", "%", 99.0, True),
    "semantic_conversations_precision_pct": Figure("semantic", "precision, conversations", "%", 99.0, True),
    "semantic_single_recall_pct": Figure("semantic", "recall, single questions", "%", 60.0, True),
    "semantic_conversations_recall_pct": Figure("semantic", "recall, conversations", "%", 60.0, True),
    "semantic_pooled_single_precision_pct": Figure("semantic", "precision, single, one shared index", "%", 99.0, True),
    "semantic_pooled_conversations_precision_pct": Figure("semantic", "precision, conversations, one shared index",
                                                          "%", 99.0, True),
    "semantic_pooled_single_recall_pct": Figure("semantic", "recall, single, one shared index", "%"),
    "semantic_pooled_conversations_recall_pct": Figure("semantic", "recall, conversations, one shared index", "%"),
}
# The labelled set's categories (tests/semantic/data/README.md): recall where the answer is right, precision where not.
SEMANTIC_SHOULD_HIT = ("paraphrase", "near_repeat", "context_reworded", "irrelevant_turns", "small_talk")
SEMANTIC_MUST_MISS = ("negation", "entity", "number", "scope", "comparison", "different_detail", "different_offer")
FIGURES.update({f"semantic_{c}_recall_pct": Figure("semantic", f"recall: {c.replace('_', ' ')}", "%", 60.0, True)
                for c in SEMANTIC_SHOULD_HIT})
FIGURES.update({f"semantic_{c}_precision_pct": Figure("semantic", f"precision: {c.replace('_', ' ')}", "%", 99.0, True)
                for c in SEMANTIC_MUST_MISS})
AREAS = ("start-up", "cache", "engine", "embedded", "storage", "team", "tools", "semantic", "memory")
# Figures that qualify others (counts, settings, p50s behind the p99 rows) are in the JSON but not worth a row.
CONTEXT_ONLY = {"history_conversations", "embedded_tokens_per_answer", "embedded_threads", "engine_stream_tokens",
                "engine_rounds", "cache_entries", "cache_turns", "cache_request_bytes", "cache_conversation_bytes",
                "cache_cached_ask_heavy_imports", "team_payload_bytes", "team_answer_bytes",
                "team_payload_json_object_bytes", "team_bare_get_p50_us", "team_client_hit_p50_us",
                "team_down_lookup_p50_us", "tools_parallel_calls",
                "semantic_entries", "semantic_pairs", "semantic_replay_prompts", "semantic_replay_wrong_answers"}
SHOWN_WITHOUT_ENTRY = re.compile(r"_p50_(us|ms|ratio)$|_floor_p50_")


def _figure_for(key: str) -> Figure:
    """Figures other sections add (team, semantic, tools) still get a readable row; a `_ratio` is in x."""
    if key in FIGURES:
        return FIGURES[key]
    unit = next((u for u in ("us", "ms", "mb", "pct", "ratio", "s") if key.endswith("_" + u)), "")
    area, _, rest = key.partition("_")
    label = (rest[: -len(unit) - 1] if unit else rest).replace("_", " ") or key
    return Figure(area, label, {"mb": "MB", "pct": "%", "ratio": "x"}.get(unit, unit))


def _cache(workdir: Path, quick: bool) -> dict[str, float]:
    from assistant.bench.cache_bench import run_cache_bench

    figures = run_cache_bench(workdir, entries=2_000 if quick else 100_000)
    return {f"cache_{k}": float(v) for k, v in figures.items()}


def _tui(workdir: Path, quick: bool) -> dict[str, float]:
    from assistant.bench.process_bench import run_tui_bench

    return run_tui_bench(workdir, runs=1) if quick else run_tui_bench(workdir)


def _sections(quick: bool) -> list[tuple[str, Callable[[Path], dict[str, float]]]]:
    from assistant.bench.embedded_bench import run_embedded_bench
    from assistant.bench.engine_bench import run_engine_bench
    from assistant.bench.process_bench import run_process_bench
    from assistant.bench.semantic_bench import run as run_semantic_bench
    from assistant.bench.storage_bench import run_storage_bench
    from assistant.bench.team_bench import run as run_team_bench
    from assistant.bench.tools_bench import run as run_tools_bench

    if quick:
        return [
            ("start-up and memory", lambda w: run_process_bench(w, runs=1, embedded=False)),
            ("TUI", lambda w: _tui(w, True)),
            ("cache", lambda w: _cache(w, True)),
            ("engine", lambda w: run_engine_bench(w, tokens=200, rounds=2)),
            ("embedded", lambda w: run_embedded_bench(w, max_tokens=8, rounds=1)),
            ("storage", lambda w: run_storage_bench(w, records=20, conversations=300, searches=5)),
            ("team cache", lambda w: run_team_bench(True, w)),
            ("tools", lambda w: run_tools_bench(True)),
            ("similar questions", lambda w: run_semantic_bench(True, w)),
        ]
    return [
        ("start-up and memory", lambda w: run_process_bench(w)),
        ("TUI", lambda w: _tui(w, False)),
        ("cache", lambda w: _cache(w, False)),
        ("engine", lambda w: run_engine_bench(w)),
        ("embedded", lambda w: run_embedded_bench(w)),
        ("storage", lambda w: run_storage_bench(w)),
        ("team cache", lambda w: run_team_bench(False, w)),
        ("tools", lambda w: run_tools_bench(False)),
        ("similar questions", lambda w: run_semantic_bench(False, w)),
    ]


@dataclass(frozen=True)
class BenchResult:
    figures: dict[str, float]
    unavailable: dict[str, str]  # section -> why it produced no figures
    seconds: float
    load: float = 0.0  # 1-minute load average at the start: other work on the machine skews every figure

    def as_json(self) -> dict[str, object]:
        targets = {k: {"target": f.target_text(), "met": f.met(v)} for k, v in self.figures.items()
                   if (f := _figure_for(k)).target is not None}
        return {"figures": self.figures, "targets": targets, "unavailable": self.unavailable,
                "seconds": round(self.seconds, 1), "cpus": os.cpu_count(), "load_average": round(self.load, 2)}


def run_all(quick: bool = False, progress: TextIO | None = None) -> BenchResult:
    """Every section in its own scratch folder; a failing section is reported, never fatal to the others."""
    start, load = time.perf_counter(), os.getloadavg()[0]
    figures: dict[str, float] = {}
    unavailable: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="assistant-bench-") as scratch:
        for name, run in _sections(quick):
            if progress is not None:
                progress.write(f"measuring {name}…\n")
                progress.flush()
            workdir = Path(scratch) / name.replace(" ", "-")
            workdir.mkdir()
            try:
                measured = run(workdir)
            except Exception as exc:  # one broken section must not hide the others' figures
                unavailable[name] = f"{type(exc).__name__}: {exc}".strip()[:300]
                continue
            for key, value in measured.items():
                if math.isfinite(value):
                    figures[key] = value
                else:  # e.g. RSS when the process never settled: say so rather than print NaN
                    unavailable[key] = "no finite value this run"
    return BenchResult(figures, unavailable, time.perf_counter() - start, load)


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}" if abs(value) >= 1 else f"{value:.3f}"


def render_table(result: BenchResult) -> str:
    order = {key: i for i, key in enumerate(FIGURES)}
    ranked: list[tuple[int, int, tuple[str, str, str, str, str]]] = []
    for n, (key, value) in enumerate(result.figures.items()):
        if key in CONTEXT_ONLY or (key not in FIGURES and SHOWN_WITHOUT_ENTRY.search(key)
                                   and key.startswith(("cache_", "history_"))):
            continue
        fig = _figure_for(key)
        met = fig.met(value)
        area = AREAS.index(fig.area) if fig.area in AREAS else len(AREAS)
        # Known figures in FIGURES' order (a floor and its ratio right after what they qualify); others as measured.
        ranked.append((area, order.get(key, len(order) + n), (fig.area, fig.label, f"{_fmt(value)} {fig.unit}",
                                                              fig.target_text(), "" if met is None else
                                                              ("ok" if met else "MISSED"))))
    rows = [("area", "measure", "figure", "target", "")] + [row for _, _, row in sorted(ranked)]
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = ["  ".join(cell.ljust(w) if i != 2 else cell.rjust(w) for i, (cell, w) in enumerate(zip(r, widths, strict=False))).rstrip()
             for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths).rstrip())
    f = result.figures
    notes = [f"{os.cpu_count()} CPUs, load average {result.load:.2f} at the start, {result.seconds:.0f} s in all."]
    if "engine_stream_tokens" in f:
        notes.append(f"Engine: medians of {f['engine_rounds']:.0f} streams of {f['engine_stream_tokens']:,.0f} tokens from a "
                     "loopback Ollama, each paired with bare httpx reading the same stream.")
    if "team_payload_bytes" in f:
        notes.append(f"Team cache: a redis-server of its own on loopback; a {f['team_answer_bytes']:,.0f}-byte answer "
                     f"stored as {f['team_payload_bytes']:,.0f} bytes; each figure next to a bare redis-py GET.")
    if "history_conversations" in f:
        notes.append(f"History search over {f['history_conversations']:,.0f} conversations.")
    if "embedded_tokens_per_answer" in f:
        notes.append(f"Embedded: {f['embedded_tokens_per_answer']:.0f} tokens per answer, "
                     f"{f.get('embedded_threads', 0):.0f} threads, temperature 0, same seed.")
    if "semantic_entries" in f:
        notes.append(f"Similar questions: lookups over {f['semantic_entries']:,.0f} stored questions (WordLlama, 256 "
                     f"dimensions); quality on {f.get('semantic_pairs', 0):,.0f} hand-labelled pairs; replay of "
                     f"{f.get('semantic_replay_prompts', 0):,.0f} labelled prompts, "
                     f"{f.get('semantic_replay_wrong_answers', 0):.0f} wrong answers served.")
    for section, why in result.unavailable.items():
        notes.append(f"Not measured: {section} ({why}).")
    return "\n".join(lines + [""] + notes)


def main(quick: bool = False, as_json: bool = False, out: TextIO | None = None) -> int:
    import json

    out = out or sys.stdout
    result = run_all(quick, progress=sys.stderr if sys.stderr.isatty() else None)
    out.write(json.dumps(result.as_json(), indent=1) + "\n" if as_json else render_table(result) + "\n")
    return 0
