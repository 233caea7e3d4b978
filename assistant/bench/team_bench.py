"""The team cache's figures over a real loopback redis-server, each next to a bare redis-py GET measured in the same
run: a hit through the engine's team tier, 8 concurrent clients, and a lookup while the server is down."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import random
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from assistant.bench.redis_server import RedisServer, free_port
from assistant.core.config import TeamSettings
from assistant.core.records import CachedAnswer
from assistant.engine.team_tier import TeamTier
from assistant.engine.tiers import Lookup
from assistant.storage.team import TeamCache
from assistant.storage.team_entry import seal, team_key

__all__ = ["KEY", "RedisServer", "free_port", "run", "sample_entry"]

SECRET = "bench-team-secret"
CLIENTS = 8
KEY = "b3:" + "1f" * 32
# Throughput and the hit's cost are measured, not the timeout: a loaded machine must not trip the breaker here.
GENEROUS: dict[str, Any] = {"read_timeout_ms": 1000.0, "connect_timeout_ms": 1000.0}
_VOCABULARY = (  # common words of programming answers
    "the", "a", "to", "of", "and", "in", "is", "it", "that", "for", "you", "with", "on", "as", "this", "be",
    "are", "can", "or", "by", "not", "from", "your", "use", "when", "if", "will", "an", "which", "function",
    "returns", "value", "list", "file", "each", "key", "cache", "model", "answer", "request", "server", "team",
    "python", "install", "run", "error", "time", "first", "then", "one", "more", "new", "data", "other", "than",
    "only", "also", "how", "what", "where", "after", "before", "because", "example", "string", "number", "call",
    "method", "class", "test", "code", "line", "loop", "read", "write", "open", "close", "memory", "thread",
    "queue", "lock",
)


def sample_entry(text_bytes: int = 2000, *, created_at: float | None = None, key: str = KEY) -> CachedAnswer:
    """An answer of `text_bytes` of words drawn with a fixed seed (zlib shrinks it about as much as real prose)."""
    rng = random.Random(text_bytes)
    words: list[str] = []
    while sum(map(len, words)) + len(words) < text_bytes:
        words.append(rng.choice(_VOCABULARY))
    text = " ".join(words)[:text_bytes]
    return CachedAnswer(key, "openai", "gpt-4o-mini", text, 812, 431, 0.000381, False, 412.5, 2210.0,
                        time.time() if created_at is None else created_at)


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _timed(call: Callable[[], Any]) -> float:
    t = time.perf_counter_ns()
    call()
    return (time.perf_counter_ns() - t) / 1000


def _bare(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url, socket_timeout=1.0, driver_info=None)


def _tier(url: str, **settings: Any) -> TeamTier:
    return TeamTier(TeamSettings(cache_url=url, **{**GENEROUS, **settings}), lambda: SECRET, lambda: None)


def _latency(url: str, bare: Any, key: str, samples: int) -> dict[str, float]:
    """A hit through the tier (the engine's path: a reader thread, a bounded wait), the client's own GET and check
    on the caller's thread, and a bare GET, interleaved so drift on a busy machine hits all three alike."""
    tier = _tier(url)
    lookup = Lookup((key,), ())
    rkey = f"assistant:{key}"

    async def measure() -> tuple[list[float], list[float], list[float]]:
        cache = tier.cache()
        assert cache is not None
        for _ in range(200):  # connections open, code paths warm
            await tier.lookup(lookup)
            cache.get(key)
            bare.get(rkey)
        through, client, floor = [], [], []
        for _ in range(samples):
            t = time.perf_counter_ns()
            hit = await tier.lookup(lookup)
            through.append((time.perf_counter_ns() - t) / 1000)
            if hit is None:
                raise RuntimeError(f"the team tier missed its own entry: {cache.status().last_error}")
            client.append(_timed(lambda: cache.get(key)))
            floor.append(_timed(lambda: bare.get(rkey)))
        return through, client, floor

    try:
        through, client, floor = asyncio.run(measure())
    finally:
        tier.close()
    out = {}
    for q, name in ((0.5, "p50"), (0.99, "p99")):
        out[f"team_tier_hit_{name}_us"] = round(_pct(through, q), 1)
        out[f"team_client_hit_{name}_us"] = round(_pct(client, q), 1)
        out[f"team_bare_get_{name}_us"] = round(_pct(floor, q), 1)
        out[f"team_tier_hit_{name}_ratio"] = round(_pct(through, q) / _pct(floor, q), 2)
    return out


def _client(url: str, key: str, bare: bool, count: int, start: Any, results: Any) -> None:
    """One install's process: a client of its own, warmed up, then `count` lookups after the common start."""
    if bare:
        client = _bare(url)
        rkey = f"assistant:{key}"

        def one() -> bool:
            return client.get(rkey) is not None
    else:
        team = TeamCache(TeamSettings(cache_url=url, **GENEROUS), SECRET)

        def one() -> bool:
            return team.get(key) is not None
    for _ in range(50):
        one()
    start.wait()
    t0 = time.monotonic()  # CLOCK_MONOTONIC: one clock for every process on the machine
    found = sum(one() for _ in range(count))
    results.put((t0, time.monotonic(), found))


def _throughput(url: str, key: str, bare: bool, per_client: int) -> float:
    """Lookups per second of CLIENTS processes at once: each install is a process of its own (no shared GIL)."""
    import multiprocessing

    # Forked from a clean server process that imported this module once: no threads of ours are copied, and
    # starting the eight costs a fork each, not an interpreter start.
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload([__name__, "redis"])
    start, results = ctx.Barrier(CLIENTS), ctx.Queue()
    procs = [ctx.Process(target=_client, args=(url, key, bare, per_client, start, results)) for _ in range(CLIENTS)]
    for p in procs:
        p.start()
    try:
        rows = [results.get(timeout=300) for _ in procs]
    finally:
        for p in procs:
            p.join(30)
    if any(found != per_client for _, _, found in rows):
        raise RuntimeError("a concurrent client missed")
    return float(CLIENTS * per_client / (max(end for _, end, _ in rows) - min(begin for begin, _, _ in rows)))


def _concurrent(url: str, key: str, per_client: int) -> dict[str, float]:
    """Eight installs at once, each a process with its own connection, against eight bare clients."""
    ours = _throughput(url, key, False, per_client)
    floor = _throughput(url, key, True, per_client)
    return {"team_8_clients_ops_per_s": round(ours), "team_bare_8_clients_ops_per_s": round(floor),
            "team_8_clients_ratio": round(ours / floor, 2)}


def _down(server: RedisServer, bare_p50_us: float, samples: int) -> dict[str, float]:
    """What the tier adds to a request once the server is gone and the breaker has opened (the first failure
    excluded): the lookup as the engine makes it, with the default timeouts."""
    tier = TeamTier(TeamSettings(cache_url=server.url, cooldown_s=3600), lambda: SECRET, lambda: None)
    lookup = Lookup(("b3:later",), ())

    async def measure() -> list[float]:
        await tier.lookup(Lookup(("b3:first",), ()))  # the one failure that opens the breaker
        status = tier.status()
        if status is None or status.state != "down":
            raise RuntimeError(f"the breaker did not open: {status}")
        costs = []
        for _ in range(samples):
            t = time.perf_counter_ns()
            await tier.lookup(lookup)
            costs.append((time.perf_counter_ns() - t) / 1000)
        return costs

    server.kill()
    try:
        costs = asyncio.run(measure())
        status = tier.status()
        if status is None or status.skipped != samples:
            raise RuntimeError("lookups reached the dead server")
    finally:
        tier.close()
    p99 = _pct(costs, 0.99)
    return {"team_down_lookup_p50_us": round(_pct(costs, 0.5), 2), "team_down_lookup_p99_us": round(p99, 2),
            "team_down_vs_bare_get_ratio": round(p99 / bare_p50_us, 4)}


def _puts(url: str, entry: CachedAnswer) -> dict[str, float]:
    """What sharing an answer costs the request (a queue append), and what is stored."""
    team = TeamCache(TeamSettings(cache_url=url, share=True, **GENEROUS), SECRET)
    try:
        puts = []
        for i in range(200):
            puts.append(_timed(lambda i=i: team.put(dataclasses.replace(entry, key=f"b3:put{i}"))))  # type: ignore[misc]
            if i % 50 == 49:
                team.flush(5.0)
        team.put(entry)
        if not team.flush(5.0) or team.status().writes != 201:
            raise RuntimeError(f"queued writes did not reach the server: {team.status().last_error}")
    finally:
        team.close()
    blob = seal(team_key(SECRET), "assistant", entry)
    return {"team_put_caller_p99_us": round(_pct(puts, 0.99), 1), "team_payload_bytes": float(len(blob)),
            "team_answer_bytes": float(len(entry.text.encode())),
            "team_payload_json_object_bytes": float(len(json.dumps(dataclasses.asdict(entry)).encode()))}


def run(quick: bool, workdir: Path | None = None) -> dict[str, float]:
    """Start a redis-server of our own (in `workdir`, or a scratch folder), measure, stop it."""
    samples, per_client = (1_000, 300) if quick else (20_000, 5_000)
    scratch = Path(tempfile.mkdtemp(prefix="assistant-team-bench-", dir=workdir))
    server = RedisServer(scratch / "redis").start()
    try:
        entry = sample_entry()
        figures = _puts(server.url, entry)
        bare = _bare(server.url)
        try:
            figures.update(_latency(server.url, bare, entry.key, samples))
        finally:
            bare.close()
        figures.update(_concurrent(server.url, entry.key, per_client))
        figures.update(_down(server, figures["team_bare_get_p50_us"], samples))
    finally:
        server.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    return figures


if __name__ == "__main__":
    print(json.dumps(run(quick=os.environ.get("QUICK", "") == "1"), indent=1))
