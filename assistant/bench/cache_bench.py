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
    pass

MODEL = ModelRef("openai", "gpt-4o-mini")
PROMPT = "Summarise the trade-offs between write-ahead logging and rollback journals in SQLite."
SYSTEM = "You are a careful assistant for software engineers. Answer precisely, with short paragraphs. " * 3
# A cached `ask` must import none of these: the event loop, the engine, HTTP clients, SDKs, the keyring, the UI.
HEAVY = ("asyncio", "httpx", "ollama", "llama_cpp", "keyring", "sqlite_utils", "textual", "assistant.engine.engine")
_ANSWER = ("Write-ahead logging appends changes to a separate file, so readers keep reading the database while a "
           "writer works, and commits need one sequential write. ") * 12  # about 2 KB


TURNS = 50  # a long chat: its earlier messages carry the digests stored with them, as the engine loads them


def _messages(i: int, turns: int) -> tuple[ChatMessage, ...]:
    """About 1 KB for one question (a system prompt, one earlier turn and the question: what a chat resends), or a
    conversation of `turns` questions and answers before the question."""
    from assistant.core.cache_key import content_digest

    earlier: list[ChatMessage] = [ChatMessage("user", f"Question number {i}: {PROMPT}"),
                                  ChatMessage("assistant", _ANSWER[:400])]
    for t in range(1, turns):
        earlier += [ChatMessage("user", f"Follow-up {t} of {i}: and what about case {t}?"),
                    ChatMessage("assistant", _ANSWER[: 300 + t * 7])]
    stored = [ChatMessage(m.role, m.content, content_digest(m.content)) for m in earlier]
    return (ChatMessage("system", SYSTEM), *stored, ChatMessage("user", f"And for case {i}?"))


def _request(i: int, turns: int = 1) -> ProviderRequest:
    return ProviderRequest(MODEL, _messages(i, turns), GenerationSettings(0.2, 1024, None))


def _fill(conn: sqlite3.Connection, entries: int, turns: int) -> None:
    from assistant.core.cache_key import KEY_SCHEME, cache_key
    from assistant.core.records import CachedAnswer
    from assistant.storage.cache import CacheLimits, ResponseCache

    cache = ResponseCache(conn, CacheLimits(0, 0, 0, 0))
    now = time.time()
    batch: list[CachedAnswer] = []
    for i in range(entries):
        # Most entries are one-question requests; every tenth is a long conversation's next question.
        key = cache_key(_request(i, turns if i % 10 == 0 else 1))
        batch.append(CachedAnswer(key, MODEL.provider, MODEL.model, f"{i}: {_ANSWER}", 300, 500, 0.0004, False,
                                  300.0, 2000.0, now - random.random() * 86400))
        if len(batch) == 5_000:
            cache.put_many(batch, scheme=KEY_SCHEME)
            batch = []
    cache.put_many(batch, scheme=KEY_SCHEME)
    conn.execute("PRAGMA optimize")


def _timed(lookup: Callable[[ProviderRequest], object], requests: list[ProviderRequest],
           clock: Callable[[], int] = time.perf_counter_ns) -> list[float]:
    """Microseconds per lookup, the key computed from the request each time."""
    out = []
    gc.disable()
    try:
        for request in requests:
            t = clock()
            if lookup(request) is None:
                raise RuntimeError("a bench lookup missed an entry it should hit")
            out.append((clock() - t) / 1000)
    finally:
        gc.enable()
    return out


def _paired(ours: Callable[[ProviderRequest], object], floor: Callable[[ProviderRequest], object],
            ours_requests: list[ProviderRequest], floor_requests: list[ProviderRequest],
            clock: Callable[[], int] = time.perf_counter_ns) -> tuple[list[float], list[float]]:
    """Microseconds per lookup of each side, one lookup of each in turn (each going first every other time), so
    both see the same moment: the machine's load, the CPU's caches and which pages of the memory-mapped file
    are already mapped. Each side has its own random requests: a floor re-reading the entries ours had just
    read would be measured on warmer memory."""
    mine: list[float] = []
    theirs: list[float] = []
    pairs = ((ours, ours_requests, mine), (floor, floor_requests, theirs))
    gc.disable()
    try:
        for i in range(min(len(ours_requests), len(floor_requests))):
            for lookup, requests, out in (pairs if i % 2 else pairs[::-1]):
                t = clock()
                found = lookup(requests[i])
                out.append((clock() - t) / 1000)
                if found is None:
                    raise RuntimeError("a bench lookup missed an entry it should hit")
    finally:
        gc.enable()
    return mine, theirs


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * q))], 2)


def _floors(conn: sqlite3.Connection) -> tuple[Callable[[ProviderRequest], object], Callable[[ProviderRequest], object],
                                                Callable[[list[ProviderRequest]], None]]:
    """The physical floors: blake3 of exactly the bytes our key hashes, then the same primary-key SELECT through a
    plain sqlite3 cursor, or an OrderedDict LRU lookup (get and move to the end)."""
    from collections import OrderedDict

    from blake3 import blake3

    from assistant.core.cache_key import key_header, messages_part

    def raw_key(request: ProviderRequest) -> str:
        head = key_header(request.model.provider, request.model.model, request.settings)
        return "b3:" + blake3(head + messages_part(request.messages)).hexdigest()

    from assistant.storage.cache import SELECT_ENTRY

    cur = conn.cursor()
    sql = SELECT_ENTRY  # the very statement the cache runs: the floor is that query and nothing around it

    def sqlite_hit(request: ProviderRequest) -> object:
        rows = cur.execute(sql, (raw_key(request),)).fetchall()
        return rows[0] if rows else None

    lru: OrderedDict[str, object] = OrderedDict()

    def dict_hit(request: ProviderRequest) -> object:
        key = raw_key(request)
        found = lru.get(key)
        if found is not None:
            lru.move_to_end(key)
        return found

    def warm(requests: list[ProviderRequest]) -> None:
        for r in requests:
            lru[raw_key(r)] = sqlite_hit(r)
    return sqlite_hit, dict_hit, warm


def _lookups(conn: sqlite3.Connection, entries: int, samples: int, turns: int) -> dict[str, float]:
    """Ours (the engine's exact tier: key from the request, then ResponseCache) against the floors, lookup by
    lookup (see `_paired`); p50 and p99 per side and their ratios."""
    from assistant.core.cache_key import cache_key
    from assistant.storage.cache import CacheLimits, ResponseCache

    rng = random.Random(7)
    persistent = ResponseCache(conn, CacheLimits(0, 0, 0, 0))
    hot = ResponseCache(conn, CacheLimits(0, 0, 0, 1024))
    sqlite_hit, dict_hit, warm = _floors(conn)
    out: dict[str, float] = {}
    for shape, ids in (("", [i for i in range(entries) if i % 10]), (f"conv{turns}_", list(range(0, entries, 10)))):
        size = turns if shape else 1
        picks = {side: [_request(rng.choice(ids), size) for _ in range(samples)] for side in ("ours_p", "floor_p")}
        warm_set = [_request(i, size) for i in rng.sample(ids, min(500, len(ids)))]
        for r in warm_set:
            hot.get(cache_key(r))
        warm(warm_set)
        hot_pick = [rng.choice(warm_set) for _ in range(samples)]
        sides: dict[str, list[float]] = {}
        sides["ours_p"], sides["floor_p"] = _paired(lambda r: persistent.get(cache_key(r)), sqlite_hit,
                                                    picks["ours_p"], picks["floor_p"])
        # As the exact tier asks: memory, or (once a second, to see other processes' clears) the full lookup.
        sides["ours_h"], sides["floor_h"] = _paired(lambda r: hot.get_hot(k := cache_key(r)) or hot.get(k), dict_hit,
                                                    hot_pick, hot_pick[::-1])
        for side, tag in (("p", "persistent_hit"), ("h", "hot_hit")):
            ours, floor = sides[f"ours_{side}"], sides[f"floor_{side}"]
            for q, name in ((0.5, "p50"), (0.99, "p99")):
                out[f"{shape}{tag}_{name}_us"] = _pct(ours, q)
                out[f"{shape}{tag}_floor_{name}_us"] = _pct(floor, q)
                out[f"{shape}{tag}_{name}_ratio"] = round(_pct(ours, q) / max(_pct(floor, q), 0.01), 3)
    misses = _timed(lambda r: 0 if persistent.get(cache_key(r)) is None else None,
                    [_request(entries + rng.randrange(10 * entries)) for _ in range(samples)])
    out["persistent_miss_p50_us"], out["persistent_miss_p99_us"] = _pct(misses, 0.5), _pct(misses, 0.99)
    persistent.flush()
    hot.flush()
    return out


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
    imported = {n.strip() for n in re.findall(r"\|\s+([\w.]+)\s*$", traced.stderr, re.M)}
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
        _fill(conn, entries, TURNS)
        from assistant.core.cache_key import canonical_request

        figures: dict[str, float] = {"entries": float(entries), "turns": float(TURNS),
                                     "request_bytes": float(len(canonical_request(_request(0)).encode())),
                                     "conversation_bytes": float(len(canonical_request(_request(0, TURNS)).encode()))}
        figures.update(_lookups(conn, entries, min(10_000, max(2_000, entries // 10)), TURNS))
    finally:
        conn.close()
    _prime(home)
    figures.update(_end_to_end(home, runs=7 if entries >= 10_000 else 3))
    return figures
