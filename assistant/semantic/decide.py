"""The decision: nearest stored question, over its threshold, passing the guard, in a context that agrees.

Thresholds are per embedder (measured on tests/semantic/data, see assistant/bench/semantic_bench.py) and may be
raised per entry: when a user marks a served answer wrong, that entry's threshold goes above the similarity it
was served at, and the pair itself never matches again (the feedback half of vCache's per-entry thresholds).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

import numpy as np

from assistant.semantic.context import Context, context_of
from assistant.semantic.embedder import Embedder
from assistant.semantic.guard import compare
from assistant.semantic.index import VectorIndex
from assistant.semantic.text import words

Messages = Iterable[Mapping[str, str] | Sequence[str]]


@dataclass(frozen=True)
class Thresholds:
    """Cosine floors. `verified` applies when the guard paired up every content word (only phrasing, typos or
    order differ), `question` and `context` when some words were reworded and the embedding must vouch for them."""

    question: float
    context: float
    verified: float


# Measured on the labelled set (tests/semantic/data); other embedders get stricter floors until measured.
THRESHOLDS: dict[str, Thresholds] = {"wordllama:l2_supercat-256": Thresholds(0.70, 0.70, 0.40)}
UNMEASURED = Thresholds(0.92, 0.85, 0.80)
FEEDBACK_MARGIN = 0.02  # how far above a wrong match's similarity an entry's own threshold moves


@dataclass(frozen=True)
class Match:
    """A stored answer that may be reused: which entry, how close, and the question it answered."""

    entry_id: int
    similarity: float
    prompt: str


@dataclass(frozen=True)
class Lookup:
    """What a lookup found: a match, or the closest refusal and why (a "near miss" for `cache stats`)."""

    match: Match | None
    near_miss: str | None = None
    near_similarity: float = 0.0


@dataclass(frozen=True)
class Embedded:
    """A conversation ready to index: its context and vectors (question, user context, assistant context)."""

    context: Context
    question: np.ndarray
    user: np.ndarray | None
    assistant: np.ndarray | None


@dataclass
class _Entry:
    group: str
    embedded: Embedded
    threshold: float | None = None
    forgotten: set[str] = field(default_factory=set)


def embed_text(text: str) -> str:
    """What is embedded: casing and contractions folded, so "What's" and "what is" land on the same tokens."""
    return " ".join(w.low for w in words(text)) or text.strip().lower()


def pair_key(context: Context) -> str:
    """A fingerprint of an asked conversation, to remember that it must never match a given entry again."""
    raw = "\x1f".join((embed_text(context.focus), embed_text(context.user), embed_text(context.assistant), context.system))
    return hashlib.blake2b(raw.encode(), digest_size=16).hexdigest()


class Matcher:
    """Semantic lookups over entries grouped by what the caller requires to be equal (model, settings)."""

    def __init__(self, embedder: Embedder, thresholds: Thresholds | None = None, k: int = 8) -> None:
        self.embedder = embedder
        self.thresholds = thresholds or THRESHOLDS.get(embedder.name, UNMEASURED)
        self.k = k
        self._indexes: dict[str, VectorIndex] = {}
        self._entries: dict[int, _Entry] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def embed(self, messages: Messages | str) -> Embedded:
        context = context_of([("user", messages)] if isinstance(messages, str) else messages)
        texts = [embed_text(context.focus)]
        if context.user:
            texts.append(embed_text(context.user))
        if context.assistant:
            texts.append(embed_text(context.assistant))
        vectors = self.embedder.embed(texts)
        user = vectors[1] if context.user else None
        assistant = vectors[-1] if context.assistant else None
        return Embedded(context, vectors[0], user, assistant)

    def add(self, entry_id: int, messages: Messages | str, group: str = "") -> Embedded:
        embedded = self.embed(messages)
        self.add_embedded(entry_id, embedded, group)
        return embedded

    def add_embedded(self, entry_id: int, embedded: Embedded, group: str = "", threshold: float | None = None,
                     forgotten: Iterable[str] = ()) -> None:
        self.remove(entry_id)
        index = self._indexes.get(group)
        if index is None:
            index = self._indexes[group] = VectorIndex(self.embedder.dim)
        index.add([entry_id], embedded.question[None, :])
        self._entries[entry_id] = _Entry(group, embedded, threshold, set(forgotten))

    def add_many(self, entries: Iterable[tuple[int, Embedded, str, float | None, Iterable[str]]]) -> int:
        """Bulk load (entry id, embedded, group, threshold, forgotten pairs): one matrix copy per group."""
        by_group: dict[str, list[tuple[int, Embedded]]] = {}
        n = 0
        for entry_id, embedded, group, threshold, forgotten in entries:
            self.remove(entry_id)
            self._entries[entry_id] = _Entry(group, embedded, threshold, set(forgotten))
            by_group.setdefault(group, []).append((entry_id, embedded))
            n += 1
        for group, rows in by_group.items():
            index = self._indexes.get(group)
            if index is None:
                index = self._indexes[group] = VectorIndex(self.embedder.dim, capacity=len(rows))
            index.add([i for i, _ in rows], np.stack([e.question for _, e in rows]))
        return n

    def remove(self, entry_id: int) -> bool:
        entry = self._entries.pop(entry_id, None)
        if entry is None:
            return False
        self._indexes[entry.group].remove(entry_id)
        return True

    def forget(self, entry_id: int, messages: Messages | str, similarity: float) -> float | None:
        """The user said this entry was wrong for this conversation: never again, and be stricter for others."""
        entry = self._entries.get(entry_id)
        if entry is None:
            return None
        entry.forgotten.add(pair_key(self.embed(messages).context))
        entry.threshold = max(entry.threshold or self.thresholds.question, min(similarity + FEEDBACK_MARGIN, 1.0))
        return entry.threshold

    def lookup(self, messages: Messages | str, group: str = "") -> Lookup:
        index = self._indexes.get(group)
        if index is None or not len(index):
            return Lookup(None)
        asked = self.embed(messages)
        return self.lookup_embedded(asked, group)

    def lookup_embedded(self, asked: Embedded, group: str = "") -> Lookup:
        index = self._indexes.get(group)
        if index is None:
            return Lookup(None)
        key: str | None = None
        near: tuple[str, float] | None = None
        floor = min(self.thresholds.verified, self.thresholds.question)
        for entry_id, similarity in index.search(asked.question, self.k):
            if similarity < floor:
                break
            entry = self._entries[entry_id]
            if entry.threshold is not None and similarity < entry.threshold:
                near = near or ("the entry was marked wrong before at this similarity", similarity)
                continue
            if entry.forgotten:
                key = key or pair_key(asked.context)
                if key in entry.forgotten:
                    near = near or ("this pair was marked wrong", similarity)
                    continue
            reason = self.refuse(entry.embedded, asked, similarity)
            if reason is not None:
                near = near or (reason, similarity)
                continue
            return Lookup(Match(entry_id, similarity, entry.embedded.context.focus))
        return Lookup(None, *near) if near else Lookup(None)

    def refuse(self, stored: Embedded, asked: Embedded, similarity: float | None = None) -> str | None:
        """Why `asked` may not reuse `stored`'s answer, or None."""
        if similarity is None:
            similarity = float(stored.question @ asked.question)
        reason, reworded = compare(stored.context.focus, asked.context.focus)
        if reason is not None:
            return reason
        if similarity < (self.thresholds.verified if reworded == 0 else self.thresholds.question):
            return "reworded beyond the similarity threshold"
        return self._context_differs(stored, asked)

    def _context_differs(self, stored: Embedded, asked: Embedded) -> str | None:
        a, b = stored.context, asked.context
        if a.system != b.system:
            return "a different system prompt"
        for part, va, vb in (("user", stored.user, asked.user), ("assistant", stored.assistant, asked.assistant)):
            ta, tb = getattr(a, part), getattr(b, part)
            if not ta and not tb:
                continue
            if va is None or vb is None:
                return f"earlier {part} turns on one side only"
            # The assistant may have worded its answer at another length; the user's words are held to more.
            reason, reworded = compare(ta, tb, additions=part == "user")
            if reason is not None:
                return f"earlier {part} turns differ: {reason}"
            if float(va @ vb) < (self.thresholds.verified if reworded == 0 else self.thresholds.context):
                return f"earlier {part} turns differ"
        return None
