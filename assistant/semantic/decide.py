"""The decision: nearest stored question, over its threshold, passing the guard, in a context that agrees.

Thresholds are per embedder (measured on tests/semantic/data, see assistant/bench/semantic_bench.py) and may be
raised per entry: when a user marks a served answer wrong, that entry's threshold goes above the similarity it
was served at, and the pair itself never matches again (the feedback half of vCache's per-entry thresholds).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

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


# Measured on the labelled set (tests/semantic/data): the highest recall with no must-miss pair served.
THRESHOLDS: dict[str, Thresholds] = {"wordllama:l2_supercat-256": Thresholds(0.70, 0.70, 0.40)}
# Transformer encoders (Ollama's embedding models) rate a swapped entity as close as a paraphrase: measured with
# multilingual-e5-small as a stand-in, 0.90 let two entity swaps through and these floors let none.
UNMEASURED = Thresholds(0.95, 0.92, 0.85)
FEEDBACK_MARGIN = 0.02  # how far above a wrong match's similarity an entry's own threshold moves


def thresholds_for(embedder: str, question: float = 0.0) -> Thresholds:
    """The floors measured for `embedder` (strict ones if unmeasured); `question` > 0 replaces the reworded-question
    and context floors ([cache] semantic_threshold)."""
    base = THRESHOLDS.get(embedder, UNMEASURED)
    return Thresholds(question, question, base.verified) if question > 0 else base


@dataclass(frozen=True)
class Match:
    """A stored answer that may be reused: which entry, how close, and the question it answered."""

    entry_id: int
    similarity: float
    prompt: str


@dataclass(frozen=True)
class Lookup:
    """What a lookup found: a match, or the closest refusal and why (a "near miss" for `cache stats`).

    `asked` is the embedded conversation, so the caller can `remember` it after a miss without embedding twice.
    """

    match: Match | None
    near_miss: str | None = None
    near_similarity: float = 0.0
    asked: Embedded | None = None


@dataclass(frozen=True)
class Embedded:
    """A conversation ready to index: its context and vectors (question, user context, assistant context)."""

    context: Context
    question: np.ndarray
    user: np.ndarray | None
    assistant: np.ndarray | None


def embed_text(text: str) -> str:
    """What is embedded: casing and contractions folded, so "What's" and "what is" land on the same tokens."""
    return " ".join(w.low for w in words(text)) or text.strip().lower()


def pair_key(context: Context) -> str:
    """A fingerprint of an asked conversation, to remember that it must never match a given entry again."""
    raw = "\x1f".join((embed_text(context.focus), embed_text(context.user), embed_text(context.assistant), context.system))
    return hashlib.blake2b(raw.encode(), digest_size=16).hexdigest()


Source = Callable[[int], "Embedded | None"]


def reduce(messages: Messages | str) -> Context:
    """The question and the context it depends on; a bare string is a one-turn conversation."""
    return context_of([("user", messages)] if isinstance(messages, str) else messages)


def texts_of(context: Context) -> list[str]:
    """What is embedded for a conversation: the question, then the user and assistant context when present."""
    texts = [embed_text(context.focus)]
    if context.user:
        texts.append(embed_text(context.user))
    if context.assistant:
        texts.append(embed_text(context.assistant))
    return texts


def embedded(context: Context, vectors: np.ndarray) -> Embedded:
    """`context` with the rows an embedder returned for `texts_of(context)`."""
    user = vectors[1] if context.user else None
    assistant = vectors[-1] if context.assistant else None
    return Embedded(context, vectors[0], user, assistant)


def raised_threshold(current: float | None, floor: float, similarity: float) -> float:
    """An entry's threshold after a match at `similarity` was marked wrong: just above that similarity."""
    return max(current if current is not None else floor, min(similarity + FEEDBACK_MARGIN, 1.0))


class Matcher:
    """Semantic lookups over entries grouped by what the caller requires to be equal (model, settings).

    In memory: one packed index per group, plus raised thresholds and forgotten pairs for the few entries that
    have them. An entry's context (its text and context vectors) is kept here when added with `add`, or fetched
    from `source` (the SQLite store) for the handful of candidates a lookup examines, so 100,000 entries cost
    their vectors and not 100,000 Python objects.
    """

    def __init__(self, embedder: Embedder, thresholds: Thresholds | None = None, k: int = 8,
                 source: Source | None = None) -> None:
        self.embedder = embedder
        self.thresholds = thresholds or THRESHOLDS.get(embedder.name, UNMEASURED)
        self.k = k
        self.source = source
        self._indexes: dict[str, VectorIndex] = {}
        self._held: dict[int, Embedded] = {}
        self._threshold: dict[int, float] = {}
        self._forgotten: dict[int, set[str]] = {}

    def __len__(self) -> int:
        return sum(len(index) for index in self._indexes.values())

    def embed(self, messages: Messages | str) -> Embedded:
        context = reduce(messages)
        return embedded(context, self.embedder.embed(texts_of(context)))

    def add(self, entry_id: int, messages: Messages | str, group: str = "") -> Embedded:
        embedded = self.embed(messages)
        self.add_embedded(entry_id, embedded, group)
        return embedded

    def add_embedded(self, entry_id: int, embedded: Embedded, group: str = "") -> None:
        """Index an entry and keep its context in memory."""
        self.add_vectors([entry_id], embedded.question[None, :], group)
        self._held[entry_id] = embedded

    def add_vectors(self, entry_ids: Sequence[int], vectors: np.ndarray, group: str = "",
                    thresholds: Mapping[int, float] | None = None,
                    forgotten: Mapping[int, Iterable[str]] | None = None) -> None:
        """Index question vectors only (bulk load from the store; contexts come from `source` when needed). An entry
        indexed again keeps its marks (raised threshold, forgotten pairs)."""
        for entry_id in entry_ids:
            self._held.pop(entry_id, None)
            for other in self._indexes.values():
                other.remove(entry_id)
        index = self._indexes.get(group)
        if index is None:
            index = self._indexes[group] = VectorIndex(self.embedder.dim, capacity=max(len(entry_ids), 1024))
        index.add(entry_ids, vectors)
        self._threshold.update(thresholds or {})
        for entry_id, pairs in (forgotten or {}).items():
            self._forgotten[entry_id] = set(pairs)

    def index(self, group: str = "") -> VectorIndex | None:
        return self._indexes.get(group)

    def remove(self, entry_id: int) -> bool:
        self._held.pop(entry_id, None)
        self._threshold.pop(entry_id, None)
        self._forgotten.pop(entry_id, None)
        return any(index.remove(entry_id) for index in self._indexes.values())

    def _entry(self, entry_id: int) -> Embedded | None:
        held = self._held.get(entry_id)
        if held is None and self.source is not None:
            held = self.source(entry_id)
        return held

    def forget(self, entry_id: int, messages: Messages | str, similarity: float) -> float | None:
        """The user said this entry was wrong for this conversation: never again, and be stricter for others."""
        if not any(entry_id in index for index in self._indexes.values()):
            return None
        self._forgotten.setdefault(entry_id, set()).add(pair_key(reduce(messages)))
        threshold = raised_threshold(self._threshold.get(entry_id), self.thresholds.question, similarity)
        self._threshold[entry_id] = threshold
        return threshold

    def forgotten(self, entry_id: int, pair: str, threshold: float | None) -> None:
        """What another process (or an earlier run) recorded: this pair never matches this entry again."""
        self._forgotten.setdefault(entry_id, set()).add(pair)
        if threshold is not None:
            self._threshold[entry_id] = max(threshold, self._threshold.get(entry_id, 0.0))

    def lookup(self, messages: Messages | str, group: str = "") -> Lookup:
        asked = self.embed(messages)
        index = self._indexes.get(group)
        if index is None or not len(index):
            return Lookup(None, asked=asked)
        return self.lookup_embedded(asked, group)

    def lookup_embedded(self, asked: Embedded, group: str = "") -> Lookup:
        index = self._indexes.get(group)
        if index is None:
            return Lookup(None, asked=asked)
        key: str | None = None
        near: tuple[str, float] | None = None
        floor = min(self.thresholds.verified, self.thresholds.question)
        for entry_id, similarity in index.search(asked.question, self.k):
            if similarity < floor:
                break
            raised = self._threshold.get(entry_id)
            if raised is not None and similarity < raised:
                near = near or ("the entry was marked wrong before at this similarity", similarity)
                continue
            if entry_id in self._forgotten:
                key = key or pair_key(asked.context)
                if key in self._forgotten[entry_id]:
                    near = near or ("this pair was marked wrong", similarity)
                    continue
            stored = self._entry(entry_id)
            if stored is None:  # dropped by another process since the index was built
                continue
            reason = self.refuse(stored, asked, similarity)
            if reason is not None:
                near = near or (reason, similarity)
                continue
            return Lookup(Match(entry_id, similarity, stored.context.focus), asked=asked)
        return Lookup(None, near[0], near[1], asked) if near else Lookup(None, asked=asked)

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
