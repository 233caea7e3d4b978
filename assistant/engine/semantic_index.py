"""The semantic tier's working half: a Matcher over the vectors in SQLite, kept current with what other processes add.

Imported only once a similar-question lookup is needed (it imports numpy). Every method that touches SQLite or
the index runs on the database thread; embedding runs in a worker thread (`embed`), never on the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from assistant.semantic.context import Context, is_standalone
from assistant.semantic.decide import Embedded, Lookup, Matcher, Messages, embedded, pair_key, reduce, texts_of
from assistant.semantic.decide import raised_threshold as _raised
from assistant.semantic.embedder import Embedder, normalise
from assistant.semantic.index import pack, unpack
from assistant.storage.semantic_store import Entry, Question, SemanticStore, Vectors

BACKFILL = 256  # questions without vectors of the current model embedded per lookup (the rest on later ones)


def group_of(model: str, settings: str) -> str:
    return f"{model}\x1f{settings}"


class LoopEmbedder:
    """A local provider's embedding model, called from a worker thread through the event loop that owns its client."""

    def __init__(self, name: str, dim: int, embed: Callable[[list[str]], Coroutine[Any, Any, list[list[float]]]],
                 loop: asyncio.AbstractEventLoop, timeout: float) -> None:
        self.name = name
        self.dim = dim
        self._embed = embed
        self._loop = loop
        self._timeout = timeout

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        rows: list[list[float]] = asyncio.run_coroutine_threadsafe(self._embed(list(texts)), self._loop).result(self._timeout)
        vectors = normalise(np.asarray(rows, dtype=np.float32))
        if vectors.shape != (len(texts), self.dim):
            raise ValueError(f"{self.name} returned {vectors.shape} vectors for {len(texts)} texts")
        return vectors


@dataclass(frozen=True)
class Found:
    """A lookup's outcome: the entry to reuse (and its exact-cache key), or the near miss it refused."""

    entry_id: int | None
    cache_key: str | None
    similarity: float
    prompt: str
    near_miss: str | None


class SemanticIndex:
    """One embedder's view of the semantic_cache table: vectors in memory, contexts read for candidates only."""

    def __init__(self, store: SemanticStore, embedder: Embedder, matcher: Matcher) -> None:
        self.store = store
        self.embedder = embedder
        self.matcher = matcher
        self.seen = -1  # highest entry id read from the table; -1 before the first load
        self._keys: dict[int, str] = {}

    # loading (database thread) --------------------------------------------------------------------
    def refresh(self) -> list[Entry]:
        """Read what is new since the last call into the index; returns entries still lacking vectors."""
        if self.seen < 0:
            groups, top = self.store.packed(self.embedder.name)
            for (model, settings), packed in groups.items():
                vectors = np.frombuffer(packed.vectors, dtype="<f2").reshape(len(packed.ids), self.embedder.dim)
                self.matcher.add_vectors(packed.ids, vectors, group_of(model, settings), packed.thresholds)
            for entry_id, pairs in self.store.forgotten().items():
                for pair in pairs:
                    self.matcher.forgotten(entry_id, pair, None)
            self.seen = top
            return self.store.unembedded(self.embedder.name, BACKFILL)
        fresh = self.store.since(self.embedder.name, self.seen)
        missing = []
        for entry in fresh:
            self.seen = max(self.seen, entry.id)
            if entry.vectors is None:
                missing.append(entry)
            else:
                self._index(entry, entry.vectors)
        return missing

    def _index(self, entry: Entry, vectors: Vectors) -> None:
        q = entry.question
        vector = unpack(vectors.question, self.embedder.dim)[None, :]
        self.matcher.add_vectors([entry.id], vector, group_of(q.model, q.settings),
                                 {entry.id: entry.threshold} if entry.threshold is not None else None)

    def store_vectors(self, entries: list[Entry], vectors: list[Embedded]) -> None:
        """Keep vectors computed in a worker thread for entries that had none, and index them."""
        packed = [(e.id, _packed(v)) for e, v in zip(entries, vectors, strict=True)]
        self.store.put_vectors(self.embedder.name, packed)
        for entry, (_, v) in zip(entries, packed, strict=True):
            self._index(entry, v)

    # embedding (worker thread) ----------------------------------------------------------------------
    def embed(self, contexts: list[Context]) -> list[Embedded]:
        """All contexts in one call to the model."""
        texts = [texts_of(c) for c in contexts]
        flat = [t for ts in texts for t in ts]
        rows = self.embedder.embed(flat) if flat else np.zeros((0, self.embedder.dim), dtype=np.float32)
        out, at = [], 0
        for context, ts in zip(contexts, texts, strict=True):
            out.append(embedded(context, rows[at:at + len(ts)]))
            at += len(ts)
        return out

    # lookups and writes (database thread) ---------------------------------------------------------
    def find(self, asked: Embedded, groups: Sequence[tuple[str, str]]) -> Found | None:
        """The first group's match, or the first near miss; None when nothing came close."""
        near: Found | None = None
        for model, settings in groups:
            result: Lookup = self.matcher.lookup_embedded(asked, group_of(model, settings))
            if result.match is not None:
                key = self._key(result.match.entry_id)
                if key is not None:
                    m = result.match
                    return Found(m.entry_id, key, m.similarity, m.prompt, None)
            elif result.near_miss is not None and near is None:
                near = Found(None, None, result.near_similarity, "", result.near_miss)
        return near

    def _key(self, entry_id: int) -> str | None:
        return self._keys.get(entry_id)

    def source(self, entry_id: int) -> Embedded | None:
        """A candidate's context and vectors, read from SQLite (the matcher's `source`)."""
        entry = self.store.get(entry_id, self.embedder.name)
        if entry is None or entry.vectors is None:
            self.matcher.remove(entry_id)  # deleted by another process since it was indexed
            return None
        self._keys[entry_id] = entry.question.cache_key
        return _embedded_of(entry, self.embedder.dim)

    def drop(self, entry_id: int) -> None:
        """An entry whose answer left the exact cache: gone from the table and the index."""
        self.matcher.remove(entry_id)
        self._keys.pop(entry_id, None)
        self.store.delete([entry_id])

    def keep(self, question: Question, asked: Embedded | None) -> int:
        entry_id = self.store.put(question, self.embedder.name if asked is not None else None,
                                  _packed(asked) if asked is not None else None)
        if asked is not None:
            self.matcher.add_vectors([entry_id], asked.question[None, :], group_of(question.model, question.settings))
        return entry_id

    def forget(self, entry_id: int, messages: Messages, similarity: float) -> None:
        self.matcher.forget(entry_id, messages, similarity)

    def clear(self) -> None:
        self.matcher = Matcher(self.embedder, self.matcher.thresholds, k=self.matcher.k, source=self.source)
        self._keys.clear()


def forget_values(store: SemanticStore, entry_id: int, messages: Messages, similarity: float) -> bool:
    """Mark a served pair wrong in SQLite, without an embedder (the CLI's `cache forget`); the entry's own
    threshold goes just above the similarity it was served at."""
    current = store.get(entry_id, "")
    if current is None:
        return False
    return store.forget(entry_id, pair_key(reduce(messages)), similarity, _raised(current.threshold, 0.0, similarity))


def context_of_entry(entry: Entry) -> Context:
    """A stored question's context, as `reduce` made it when the answer was kept."""
    q = entry.question
    return Context(q.prompt, is_standalone(q.prompt), q.context_user, q.context_assistant, q.system)


def _packed(e: Embedded) -> Vectors:
    return Vectors(pack(e.question), pack(e.user) if e.user is not None else None,
                   pack(e.assistant) if e.assistant is not None else None)


def _embedded_of(entry: Entry, dim: int) -> Embedded:
    v = entry.vectors
    assert v is not None
    return Embedded(context_of_entry(entry), unpack(v.question, dim), unpack(v.user, dim) if v.user is not None else None,
                    unpack(v.assistant, dim) if v.assistant is not None else None)
