"""The semantic tier's figures: lookup latency over a full index (embedding included), and quality per category.

Latency: the labelled set's questions are looked up in one group holding its stored questions plus synthetic
neighbours built from the same vocabulary (100,000 entries, or 5,000 with `quick`). The floor measured in the
same run is a bare float32 matrix-vector product over the same rows. Quality: tests/semantic/data (present in a
source checkout) scored pairwise and pooled; see assistant/semantic/evaluate.py.
"""

from __future__ import annotations

import gc
import random
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[2] / "tests" / "semantic" / "data"
_TEMPLATES = ("How do I {} the {} in {}?", "What is the best {} for {} {}?", "Can you explain {} {} to {}?",
              "Why does my {} {} when I {}?", "Give me a {} {} for {}.", "Is it {} to {} {}?",
              "What's the difference between {} and {} in {}?", "How many {} are in a {} of {}?")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def _timed(fn: Callable[[], object], rounds: int) -> list[float]:
    out = []
    gc.disable()
    try:
        for _ in range(rounds):
            t = time.perf_counter()
            fn()
            out.append((time.perf_counter() - t) * 1000)
    finally:
        gc.enable()
    return out


def _questions() -> tuple[list[str], list[str]]:
    """(stored, asked) last user turns of the labelled set; a few fixed questions without a source checkout."""
    from assistant.semantic.evaluate import load_pairs

    stored, asked = [], []
    for name in ("single.jsonl", "conversations.jsonl"):
        if (DATA / name).exists():
            for p in load_pairs(DATA / name):
                stored.append(p.stored if isinstance(p.stored, str) else p.stored[-1]["content"])
                asked.append(p.asked if isinstance(p.asked, str) else p.asked[-1]["content"])
    if not stored:
        stored = ["How do I reverse a list in Python?", "What is the capital of Australia?"]
        asked = ["how do i reverse a list in python", "Which city is Australia's capital?"]
    return stored, asked


def _synthetic(vocabulary: list[str], n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return [rng.choice(_TEMPLATES).format(*(rng.choice(vocabulary) for _ in range(3))) for _ in range(n)]


def _latency(entries: int, rounds: int) -> dict[str, float]:
    """The engine's path: SemanticCache over a real SQLite file holding `entries` questions in one group."""
    from assistant.semantic.cache import SemanticCache, group_of
    from assistant.semantic.embedder import WordLlamaEmbedder
    from assistant.semantic.text import words
    from assistant.storage.migrations import migrate
    from assistant.storage.semantic_store import SemanticStore

    t = time.perf_counter()
    embedder = WordLlamaEmbedder()
    load_ms = (time.perf_counter() - t) * 1000
    stored, asked = _questions()
    vocabulary = sorted({w.low for q in stored + asked for w in words(q) if len(w.low) > 3 and w.low.isalpha()})
    texts = stored + _synthetic(vocabulary, max(entries - len(stored), 0))
    with tempfile.TemporaryDirectory(prefix="assistant-semantic-") as tmp:
        conn = sqlite3.connect(str(Path(tmp) / "bench.db"), isolation_level=None)
        migrate(conn)
        vectors = embedder.embed(texts).astype("<f2")
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO semantic_cache (cache_key, model, settings, context, prompt, embedder, vector, created_at) "
            "VALUES (?, 'm', 's', '', ?, ?, ?, 0)",
            ((f"b3:{i}", q, embedder.name, vectors[i].tobytes()) for i, q in enumerate(texts)))
        conn.execute("COMMIT")
        cache = SemanticCache(SemanticStore(conn), embedder)
        t = time.perf_counter()
        cache.load()
        index_load_ms = (time.perf_counter() - t) * 1000
        queries = [asked[i % len(asked)] for i in range(rounds)]
        it = iter(queries)
        lookups = _timed(lambda: cache.lookup(next(it), "m", "s"), rounds)
        it = iter(queries)
        embeds = _timed(lambda: embedder.embed([next(it)]), rounds)
        index = cache.matcher.index(group_of("m", "s"))
        assert index is not None
        qv = embedder.embed(sorted(set(asked)))
        # Only neighbours a lookup could use matter: those over the lowest similarity floor.
        floor = min(cache.matcher.thresholds.verified, cache.matcher.thresholds.question)
        # Compared by similarity, not id: the labelled set stores some questions twice (identical vectors).
        wanted = [(v, best[0][1]) for v in qv if (best := index.exact(v, 1)) and best[0][1] >= floor]
        found = sum(index.search(v, cache.matcher.k)[0][1] >= best - 1e-4 for v, best in wanted)
        matrix = np.asarray(vectors, dtype=np.float32)
        vit = iter(np.resize(qv, (rounds, embedder.dim)))
        raw = _timed(lambda: matrix @ next(vit), rounds)
        conn.close()
    return {
        "semantic_model_load_ms": round(load_ms, 1),
        "semantic_index_load_ms": round(index_load_ms, 1),
        "semantic_embed_p50_ms": round(_pct(embeds, 0.5), 3),
        "semantic_embed_p99_ms": round(_pct(embeds, 0.99), 3),
        "semantic_lookup_p50_ms": round(_pct(lookups, 0.5), 2),
        "semantic_lookup_p99_ms": round(_pct(lookups, 0.99), 2),
        "semantic_float32_scan_p50_ms": round(_pct(raw, 0.5), 2),
        "semantic_float32_scan_p99_ms": round(_pct(raw, 0.99), 2),
        "semantic_shortlist_recall_pct": round(100 * found / max(len(wanted), 1), 1),
    }


def _quality() -> dict[str, float]:
    from assistant.semantic.decide import Matcher
    from assistant.semantic.embedder import WordLlamaEmbedder
    from assistant.semantic.evaluate import evaluate, load_pairs

    if not (DATA / "single.jsonl").exists():
        return {}
    embedder = WordLlamaEmbedder()
    pairs = load_pairs(DATA / "single.jsonl") + load_pairs(DATA / "conversations.jsonl")
    out: dict[str, float] = {}
    for mode, pooled in (("", False), ("pooled_", True)):
        for name, s in evaluate(pairs, Matcher(embedder), pooled=pooled).items():
            key = name.replace("all ", "").replace(" ", "_")
            if s.should_hit:
                out[f"semantic_{mode}{key}_recall_pct"] = round(100 * (s.recall or 0.0), 1)
            if name.startswith("all ") or not s.should_hit:
                out[f"semantic_{mode}{key}_precision_pct"] = round(100 * s.precision, 1)
            if not s.should_hit:
                out[f"semantic_{mode}{key}_wrong_pct"] = round(100 * s.wrong / s.pairs, 1)
    return out


def run(quick: bool) -> dict[str, float]:
    """Every figure; names end in _ms or _pct (plus the entry count, for context)."""
    figures = _latency(5_000 if quick else 100_000, 200 if quick else 1_000)
    figures.update(_quality())
    return figures
