"""The semantic tier as the engine sees it: look up, remember, mark wrong, clear; vectors kept in SQLite.

Only entries with the same model and settings fingerprint (the caller's) are compared; the caller keeps the
exact tier first and asks this one only on an exact miss.
"""

from __future__ import annotations

import hashlib
import threading

import numpy as np

from assistant.semantic.context import Context, is_standalone
from assistant.semantic.decide import (
    Embedded,
    Lookup,
    Match,
    Matcher,
    Messages,
    Thresholds,
    embed_text,
    pair_key,
)
from assistant.semantic.embedder import Embedder
from assistant.semantic.index import pack, unpack
from assistant.storage.semantic_store import NewRow, SemanticRow, SemanticStore


def group_of(model: str, settings: str) -> str:
    return f"{model}\x1f{settings}"


def context_fingerprint(context: Context) -> str:
    """What the stored question's context was, as a short hash (shown in `cache stats`, kept for audits)."""
    raw = "\x1f".join((embed_text(context.user), embed_text(context.assistant), context.system))
    return "b2:" + hashlib.blake2b(raw.encode(), digest_size=12).hexdigest()


class SemanticCache:
    """A Matcher whose entries live in the `semantic_cache` table; the index is rebuilt from it on first use."""

    def __init__(self, store: SemanticStore, embedder: Embedder, thresholds: Thresholds | None = None) -> None:
        self.store = store
        self.embedder = embedder
        self.matcher = Matcher(embedder, thresholds, source=self._fetch)
        self._loaded = False
        self._lock = threading.Lock()

    def _fetch(self, entry_id: int) -> Embedded | None:
        row = self.store.get(entry_id)
        return _embedded(row, self.embedder.dim) if row is not None else None

    def load(self) -> int:
        """Read this embedder's vectors into the index (once); returns how many entries it holds."""
        with self._lock:
            if not self._loaded:
                forgotten = self.store.forgotten(self.embedder.name)
                for (model, settings), (ids, blob, thresholds) in self.store.vectors(self.embedder.name).items():
                    vectors = np.frombuffer(blob, dtype="<f2").reshape(len(ids), self.embedder.dim)
                    self.matcher.add_vectors(ids, vectors, group_of(model, settings), thresholds,
                                             {i: forgotten[i] for i in ids if i in forgotten})
                self._loaded = True
        return len(self.matcher)

    def lookup(self, messages: Messages | str, model: str, settings: str) -> Lookup:
        """The stored answer this conversation may reuse (Lookup.match), or why the closest one was refused."""
        self.load()
        return self.matcher.lookup(messages, group_of(model, settings))

    def served(self, match: Match) -> None:
        """Count a served hit (for `cache stats`); the caller records the answer as a semantic hit."""
        self.store.record_hit(match.entry_id)

    def remember(self, messages: Messages | str, model: str, settings: str, cache_key: str,
                 embedded: Embedded | None = None) -> int:
        """Index a freshly answered conversation, pointing at its exact-cache entry; returns the entry id.

        Pass the `Lookup.asked` of the miss that preceded the answer to skip embedding it again.
        """
        self.load()
        embedded = embedded if embedded is not None else self.matcher.embed(messages)
        c = embedded.context
        row = NewRow(cache_key, model, settings, context_fingerprint(c), c.focus, c.user, c.assistant, c.system,
                     self.embedder.name, pack(embedded.question),
                     pack(embedded.user) if embedded.user is not None else None,
                     pack(embedded.assistant) if embedded.assistant is not None else None)
        entry_id = self.store.put(row)
        self.matcher.add_vectors([entry_id], embedded.question[None, :], group_of(model, settings))
        return entry_id

    def forget(self, entry_id: int, messages: Messages | str, similarity: float) -> bool:
        """The user marked this served answer wrong: the pair never matches again, and the entry gets stricter."""
        self.load()
        threshold = self.matcher.forget(entry_id, messages, similarity)
        pair = pair_key(self.matcher.embed(messages).context)
        return self.store.forget(entry_id, pair, similarity, threshold)

    def drop(self, entry_ids: list[int]) -> int:
        for entry_id in entry_ids:
            self.matcher.remove(entry_id)
        return self.store.delete(entry_ids)

    def clear(self) -> int:
        with self._lock:
            self.matcher = Matcher(self.embedder, self.matcher.thresholds, source=self._fetch)
            self._loaded = True
        return self.store.clear()


def _embedded(row: SemanticRow, dim: int) -> Embedded:
    context = Context(row.prompt, is_standalone(row.prompt), row.context_user, row.context_assistant, row.system)
    return Embedded(context, unpack(row.vector, dim),
                    unpack(row.user_vector, dim) if row.user_vector is not None else None,
                    unpack(row.assistant_vector, dim) if row.assistant_vector is not None else None)
