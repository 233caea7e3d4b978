"""The response cache's figures: lookup latency per tier with a full table on disk, and a cached `ask` end to end."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.core.types import ChatMessage, GenerationSettings, ModelRef, ProviderRequest, Usage
from assistant.providers.base import Availability, Chunk, Provider

if TYPE_CHECKING:
    from assistant.storage.cache import ResponseCache

MODEL = ModelRef("openai", "gpt-4o-mini")
PROMPT = "Summarise the trade-offs between write-ahead logging and rollback journals in SQLite."
SYSTEM = "You are a careful assistant for software engineers. Answer precisely, with short paragraphs. " * 3
HEAVY = ("httpx", "ollama", "llama_cpp", "keyring", "sqlite_utils", "textual")
_ANSWER = ("Write-ahead logging appends changes to a separate file, so readers keep reading the database while a "
           "writer works, and commits need one sequential write. ") * 12  # about 2 KB


def _request(i: int) -> ProviderRequest:
    """About 1 KB of request: a system prompt, one earlier turn and the question (what a chat resends)."""
    return ProviderRequest(MODEL, (ChatMessage("system", SYSTEM), ChatMessage("user", f"Question number {i}: {PROMPT}"),
                                   ChatMessage("assistant", _ANSWER[:400]), ChatMessage("user", f"And for case {i}?")),
                           GenerationSettings(0.2, 1024, None))


def _fill(conn: sqlite3.Connection, entries: int) -> None:
    from assistant.core.cache_key import KEY_SCHEME, cache_key
    from assistant.core.records import CachedAnswer
    from assistant.storage.cache import CacheLimits, ResponseCache

    cache = ResponseCache(conn, CacheLimits(0, 0, 0, 0))
    now = time.time()
    batch: list[CachedAnswer] = []
    for i in range(entries):
        text = f"{i}: {_ANSWER}"
        batch.append(CachedAnswer(cache_key(_request(i)), MODEL.provider, MODEL.model, text, 300, 500, 0.0004, False,
                                  300.0, 2000.0, now - random.random() * 86400))
        if len(batch) == 5_000:
            cache.put_many(batch, scheme=KEY_SCHEME)
            batch = []
    cache.put_many(batch, scheme=KEY_SCHEME)
    conn.execute("PRAGMA optimize")


def _timed(cache: ResponseCache, requests: list[ProviderRequest],
           clock: Callable[[], int] = time.perf_counter_ns) -> list[float]:
    """Microseconds per lookup, blake3 of the canonical request included (wall time unless `clock` says otherwise)."""
    from assistant.core.cache_key import cache_key

    get = cache.get
    out = []
    gc.disable()
    try:
        for request in requests:
            t = clock()
            get(cache_key(request))
            out.append((clock() - t) / 1000)
    finally:
        gc.enable()
    return out


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * q))], 2)


def _lookups(conn: sqlite3.Connection, entries: int, samples: int) -> dict[str, float]:
    from assistant.storage.cache import CacheLimits, ResponseCache

    rng = random.Random(7)
    persistent = ResponseCache(conn, CacheLimits(0, 0, 0, 0))
    hits = _timed(persistent, [_request(rng.randrange(entries)) for _ in range(samples)])
    misses = _timed(persistent, [_request(entries + rng.randrange(10 * entries)) for _ in range(samples)])
    # CPU time of the same lookups: on a busy machine the wall-time tail is mostly waiting for a core.
    cpu = _timed(persistent, [_request(rng.randrange(entries)) for _ in range(samples)], time.thread_time_ns)
    hot = ResponseCache(conn, CacheLimits(0, 0, 0, 1024))
    warm = [_request(i) for i in rng.sample(range(entries), min(1000, entries))]
    _timed(hot, warm)
    hot_hits = _timed(hot, [rng.choice(warm) for _ in range(samples)])
    persistent.flush()
    hot.flush()
    return {
        "persistent_hit_p50_us": _pct(hits, 0.5), "persistent_hit_p99_us": _pct(hits, 0.99),
        "persistent_miss_p50_us": _pct(misses, 0.5), "persistent_miss_p99_us": _pct(misses, 0.99),
        "hot_hit_p50_us": _pct(hot_hits, 0.5), "hot_hit_p99_us": _pct(hot_hits, 0.99),
        "persistent_hit_cpu_p50_us": _pct(cpu, 0.5), "persistent_hit_cpu_p99_us": _pct(cpu, 0.99),
    }


class _Scripted(Provider):
    """Stands in for the cloud provider once, so the cache holds a real engine-made entry for `ask` to hit."""

    async def availability(self) -> Availability:
        return Availability(True, "scripted")

    async def stream(self, request: ProviderRequest) -> AsyncIterator[Chunk]:
        yield _ANSWER
        yield Usage(40, 500)


def _ask_args() -> list[str]:
    return ["ask", "--json", "-m", str(MODEL), PROMPT]


def _prime(home: Path) -> None:
    """One real answer through the engine, from a scripted provider, so the next `ask` is a cache hit."""
    from assistant.compose import build_engine, make_keys, setup_at
    from assistant.core.events import Finished

    setup = setup_at(home)
    spec = setup.registry.spec(MODEL.provider)
    setup.registry.register(spec, _Scripted)
    engine = build_engine(setup, keys=make_keys(setup.registry, {k: "bench-never-sent" for k in spec.key_env}))
    async def go() -> None:
        try:
            events = [e async for e in engine.chat(engine.new_request(PROMPT, model=MODEL))]
            if not isinstance(events[-1], Finished):
                raise RuntimeError(f"the cache bench could not prime its answer: {events[-1]}")
        finally:
            await engine.aclose()

    asyncio.run(go())


def _wall(cmd: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    t = time.perf_counter()
    done = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    return time.perf_counter() - t, done


def _end_to_end(home: Path, runs: int) -> dict[str, float]:
    root = str(Path(__file__).resolve().parents[2])
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update({"ASSISTANT_HOME": str(home), "PYTHONPATH": root + os.pathsep + env.get("PYTHONPATH", "")})
    # An installed app has its bytecode compiled; keep ours out of the source tree, and compile it before timing.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(home / "pycache")
    ask = [sys.executable, "-m", "assistant", *_ask_args()]
    bare = [sys.executable, "-c", "pass"]
    _wall(ask, env)
    asks, passes = [], []
    for _ in range(runs):
        passes.append(_wall(bare, env)[0])
        took, done = _wall(ask, env)
        answer = json.loads(done.stdout or "{}")
        if done.returncode != 0 or answer.get("cached") is not True:
            raise RuntimeError(f"the cached ask did not hit the cache: {done.stderr.strip()[-300:] or done.stdout[:300]}")
        asks.append(took)
    _, traced = _wall([sys.executable, "-X", "importtime", "-m", "assistant", *_ask_args()], env)
    imported = set(re.findall(r"\|\s+(\w+)\s*$", traced.stderr, re.M))
    ask_s, pass_s = statistics.median(asks), statistics.median(passes)
    return {"cached_ask_s": round(ask_s, 4), "python_pass_s": round(pass_s, 4),
            "cached_ask_over_python_s": round(ask_s - pass_s, 4),
            "cached_ask_heavy_imports": float(sum(name in imported for name in HEAVY))}


def run_cache_bench(workdir: Path, entries: int = 100_000) -> dict[str, float]:
    """p50/p99 lookup microseconds per tier over `entries` answers of about 2 KB, and a cached `ask` vs `python -c pass`."""
    from assistant.storage.db import open_database

    home = Path(workdir) / f"cache-bench-{os.getpid()}-{time.time_ns()}"
    db_path = home / "data" / "assistant.db"
    conn = open_database(db_path).conn
    try:
        _fill(conn, entries)
        figures: dict[str, float] = {"entries": float(entries), "request_bytes": 0.0}
        from assistant.core.cache_key import canonical_request

        figures["request_bytes"] = float(len(canonical_request(_request(0)).encode()))
        figures.update(_lookups(conn, entries, samples=min(20_000, max(2_000, entries // 5))))
    finally:
        conn.close()
    _prime(home)
    figures.update(_end_to_end(home, runs=7 if entries >= 10_000 else 3))
    return figures
