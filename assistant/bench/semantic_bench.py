"""The similar-question tier's figures: lookup time over a full index, quality per category, and a replay.

Lookup: the engine's own tier (SemanticTier.lookup: catch-up query, embedding in a worker thread, shortlist and
exact ranking, guard and context checks on the database thread) over a real SQLite file holding the labelled
set's stored questions plus synthetic neighbours from the same vocabulary (100,000 in all, 5,000 with `quick`).
Its floor, measured in the same run, is a bare float32 matrix-vector product over the same rows (a scan with no
embedding and no checks). Quality: the labelled pairs (tests/semantic/data; shipped in the wheel as
assistant/bench/semantic_data) scored pairwise and pooled (assistant/semantic/evaluate.py). Replay: the labelled
set's stored questions asked first, then every new one, through the tier, as one user's cache would see them.
"""

from __future__ import annotations

import asyncio
import gc
import random
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant.engine.engine import Engine
    from assistant.semantic.evaluate import Pair

_TEMPLATES = ("How do I {} the {} in {}?", "What is the best {} for {} {}?", "Can you explain {} {} to {}?",
              "Why does my {} {} when I {}?", "Give me a {} {} for {}.", "Is it {} to {} {}?",
              "What's the difference between {} and {} in {}?", "How many {} are in a {} of {}?")
MODEL, SETTINGS = "ollama:llama3.2:latest", '{"max_tokens": 1024, "seed": null, "temperature": null}'


def data_dir() -> Path | None:
    """The labelled set: beside this module in an installed wheel, under tests/ in a source checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "semantic_data", here.parents[1] / "tests" / "semantic" / "data"):
        if (candidate / "single.jsonl").exists():
            return candidate
    return None


def pairs() -> list[Pair]:
    from assistant.semantic.evaluate import load_pairs

    found = data_dir()
    return [] if found is None else load_pairs(found / "single.jsonl") + load_pairs(found / "conversations.jsonl")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


async def _timed(fn: Callable[[], Awaitable[object]], rounds: int) -> list[float]:
    out = []
    gc.disable()
    try:
        for _ in range(rounds):
            t = time.perf_counter()
            await fn()
            out.append((time.perf_counter() - t) * 1000)
    finally:
        gc.enable()
    return out


def _last(conv: Any) -> str:
    return conv if isinstance(conv, str) else str(conv[-1]["content"])


def _engine(home: Path) -> Engine:
    from assistant.compose import build_engine, setup_at

    # The bundled model, so the figures do not depend on whether an Ollama happens to run here.
    config = {"cache": {"semantic": "serve", "semantic_embedder": "wordllama"}}
    return build_engine(setup_at(home, config))


def _fill(engine: Engine, texts: list[str]) -> None:
    """Questions with vectors and an exact answer each, written straight into the tables (one transaction)."""
    from assistant.semantic.embedder import WordLlamaEmbedder

    embedder = WordLlamaEmbedder()
    vectors = embedder.embed(texts).astype("<f2")
    conn = engine.conn
    now = time.time()
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO semantic_cache (id, cache_key, model, settings, prompt, created_at) "
                     "VALUES (?, ?, ?, ?, ?, ?)", ((i + 1, f"b3:{i}", MODEL, SETTINGS, q, now) for i, q in enumerate(texts)))
    conn.executemany("INSERT INTO semantic_vectors (embedder, entry_id, vector) VALUES (?, ?, ?)",
                     ((embedder.name, i + 1, vectors[i].tobytes()) for i in range(len(texts))))
    conn.executemany("INSERT INTO response_cache (key, provider, model, text, input_tokens, output_tokens, cost_usd, "
                     "cost_estimated, ttft_ms, total_ms, created_at, last_used_at, hits, size_bytes, scheme) "
                     "VALUES (?, 'ollama', 'llama3.2:latest', ?, 10, 10, 0, 0, 1, 1, ?, ?, 0, 300, ?)",
                     ((f"b3:{i}", f"answer {i}", now, now, engine.cache.scheme) for i in range(len(texts))))
    conn.execute("COMMIT")


def _lookup(prompt: Any) -> Any:
    from assistant.core.types import ChatMessage, GenerationSettings, ModelRef, ProviderRequest
    from assistant.engine.tiers import Lookup

    turns = [("user", prompt)] if isinstance(prompt, str) else [(m["role"], m["content"]) for m in prompt]
    request = ProviderRequest(ModelRef("ollama", "llama3.2:latest"), tuple(ChatMessage(r, c) for r, c in turns),
                              GenerationSettings())
    return Lookup((f"b3:asked-{id(prompt)}",), (request,), similar="serve")


async def _latency(workdir: Path, entries: int, rounds: int) -> dict[str, float]:
    import numpy as np

    from assistant.semantic.text import words

    labelled = pairs()
    stored = [_last(p.stored) for p in labelled] or ["How do I reverse a list in Python?"]
    asked = [_last(p.asked) for p in labelled] or ["how do i reverse a list in python"]
    vocabulary = sorted({w.low for q in stored + asked for w in words(q) if len(w.low) > 3 and w.low.isalpha()})
    rng = random.Random(7)
    texts = stored + [rng.choice(_TEMPLATES).format(*(rng.choice(vocabulary) for _ in range(3)))
                      for _ in range(max(entries - len(stored), 0))]
    engine = _engine(workdir / "latency")
    try:
        _fill(engine, texts)
        tier = engine.semantic
        assert tier is not None
        t = time.perf_counter()
        await tier.warm()  # model load, then the index from SQLite
        warm_ms = (time.perf_counter() - t) * 1000
        queries = [_lookup(asked[i % len(asked)]) for i in range(rounds)]
        it = iter(queries)
        lookups = await _timed(lambda: tier.lookup(next(it)), rounds)
        assert tier.index is not None
        embedder = tier.index.embedder
        matrix = np.frombuffer(b"".join(
            r[0] for r in engine.conn.execute("SELECT vector FROM semantic_vectors ORDER BY entry_id")),
            dtype="<f2").reshape(-1, embedder.dim).astype(np.float32)
        qv = embedder.embed(asked[:rounds] or asked)
        vit = iter(np.resize(qv, (rounds, embedder.dim)))

        async def scan() -> None:
            matrix @ next(vit)
        raw = await _timed(scan, rounds)
    finally:
        await engine.aclose()
    p50, p99, floor50 = _pct(lookups, 0.5), _pct(lookups, 0.99), _pct(raw, 0.5)
    return {
        "semantic_entries": float(len(texts)),
        "semantic_warm_ms": round(warm_ms, 1),
        "semantic_lookup_p50_ms": round(p50, 2),
        "semantic_lookup_p99_ms": round(p99, 2),
        "semantic_float32_scan_p50_ms": round(floor50, 2),
        "semantic_float32_scan_p99_ms": round(_pct(raw, 0.99), 2),
        "semantic_lookup_vs_scan_ratio": round(p50 / floor50, 2) if floor50 > 0 else float("nan"),
    }


def _quality() -> dict[str, float]:
    from assistant.semantic.decide import Matcher
    from assistant.semantic.embedder import WordLlamaEmbedder
    from assistant.semantic.evaluate import evaluate

    labelled = pairs()
    if not labelled:
        return {}
    embedder = WordLlamaEmbedder()
    out: dict[str, float] = {"semantic_pairs": float(len(labelled))}
    for mode, pooled in (("", False), ("pooled_", True)):
        for name, s in evaluate(labelled, Matcher(embedder), pooled=pooled).items():
            if pooled and not name.startswith("all "):
                continue  # one shared index: the totals say whether neighbours lead it astray
            key = name.replace("all ", "").replace(" ", "_")
            if s.should_hit:
                out[f"semantic_{mode}{key}_recall_pct"] = round(100 * (s.recall or 0.0), 1)
            if name.startswith("all ") or not s.should_hit:
                out[f"semantic_{mode}{key}_precision_pct"] = round(100 * s.precision, 1)
    return out


async def _replay(workdir: Path) -> dict[str, float]:
    """The stored questions answered first, then each new question looked up: repeats caught, wrong answers given."""
    from assistant.core.records import CachedAnswer
    from assistant.engine.tiers import Lookup

    labelled = pairs()
    if not labelled:
        return {}
    engine = _engine(workdir / "replay")
    caught = repeats = wrong = served = 0
    try:
        tier = engine.semantic
        assert tier is not None
        answers: dict[str, str] = {}
        for n, p in enumerate(labelled):
            key = repr(p.stored)
            if key in answers:
                continue
            look = _lookup(p.stored)
            entry = CachedAnswer(f"b3:stored-{n}", "ollama", "llama3.2:latest", key, 10, 10, 0.0, False, None, None,
                                 time.time())
            await engine.db.call(engine.cache.put, entry)
            await tier.lookup(look)  # a miss; embeds it for keep, as in a real session
            await engine.db.call(tier.keep, look, look.requests[0], entry)
            answers[key] = entry.key
        for p in labelled:
            hit = await tier.lookup(Lookup(_lookup(p.asked).keys, _lookup(p.asked).requests, similar="serve"))
            right = hit is not None and hit.entry.text in (repr(p.stored), repr(p.asked))
            repeats += p.should_hit
            caught += p.should_hit and right
            served += hit is not None
            wrong += hit is not None and not (p.should_hit and right)
    finally:
        await engine.aclose()
    return {"semantic_replay_prompts": float(len(labelled)),
            "semantic_replay_repeats_caught_pct": round(100 * caught / max(repeats, 1), 1),
            "semantic_replay_precision_pct": round(100 * (served - wrong) / served, 1) if served else 100.0,
            "semantic_replay_wrong_answers": float(wrong)}


def run(quick: bool, workdir: Path | None = None) -> dict[str, float]:
    """Every figure; names end in _ms, _pct or _ratio (plus counts, for context)."""
    async def go(folder: Path) -> dict[str, float]:
        figures = await _latency(folder, 5_000 if quick else 100_000, 200 if quick else 1_000)
        figures.update(await _replay(folder))
        return figures

    with tempfile.TemporaryDirectory(prefix="assistant-semantic-") as tmp:
        folder = workdir or Path(tmp)
        (folder / "latency").mkdir(parents=True, exist_ok=True)
        (folder / "replay").mkdir(parents=True, exist_ok=True)
        figures = asyncio.run(go(folder))
    figures.update(_quality())
    return figures
