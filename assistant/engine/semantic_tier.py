"""The similar-question tier: answers a reworded question with the answer to an earlier one, never another question.

Only built when `[cache] semantic` is not "off", and cheap until a lookup needs it: the embedding model and numpy
are loaded on the first lookup (or `warm`), in a worker thread. A fresh answer is kept as text at once (on the
database thread, no model needed); its vectors come from the lookup that preceded it, or are computed by the next
lookup in whichever process makes it. See assistant/semantic/ for the decision itself.
"""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING

from assistant.core.config import CacheSettings
from assistant.core.errors import AssistantError
from assistant.core.records import CachedAnswer
from assistant.core.types import GenerationSettings, ProviderRequest
from assistant.engine.tiers import Hit, Lookup
from assistant.providers.base import Embeds
from assistant.storage.cache import ResponseCache
from assistant.storage.db import Database
from assistant.storage.semantic_store import Question, SemanticStore

if TYPE_CHECKING:
    from assistant.engine.semantic_index import SemanticIndex
    from assistant.semantic.decide import Embedded
    from assistant.semantic.embedder import Embedder

LocalEmbedders = Callable[[], Sequence[tuple[str, Embeds]]]
EMBED_TIMEOUT = 10.0  # seconds a local provider may take to embed one lookup's texts
# A question longer than this (a pasted file) or a conversation longer than CONTEXT_CHARS is answered fresh and not
# kept: such requests are not reworded repeats, and the word-by-word checks would take time a request must not lose.
QUESTION_CHARS = 1_000
CONTEXT_CHARS = 6_000


def fingerprint(settings: GenerationSettings) -> str:
    """Everything besides the model that two requests must share before one's answer may serve the other."""
    return json.dumps(settings.as_dict(), sort_keys=True)


def conversation(request: ProviderRequest) -> list[tuple[str, str]]:
    return [(m.role, m.content) for m in request.messages]


def in_scope(request: ProviderRequest) -> bool:
    """A conversation ending with a question short enough to be asked again in other words, and nothing but text:
    with tools offered the answer may act or look things up (it must come from the model), and only the words
    are compared, so the same words about other content (attached files, images) would match."""
    messages = request.messages
    return (bool(messages) and messages[-1].role == "user" and len(messages[-1].content) <= QUESTION_CHARS
            and sum(len(m.content) for m in messages) <= CONTEXT_CHARS and not request.tools
            and not any(m.attachments for m in messages))


def question_of(messages: list[tuple[str, str]] | str, model: str, settings: str, cache_key: str) -> Question:
    """A conversation as the table keeps it: its question and what it depends on (no model, no numpy needed)."""
    from assistant.semantic.context import context_of

    context = context_of([("user", messages)] if isinstance(messages, str) else messages)
    return Question(cache_key, model, settings, context.focus, context.user, context.assistant, context.system)


class SemanticTier:
    name = "semantic"

    def __init__(self, db: Database, cache: ResponseCache, settings: CacheSettings,
                 local_embedders: LocalEmbedders) -> None:
        self.db = db
        self.cache = cache
        self.settings = settings
        self.local_embedders = local_embedders
        self.store = SemanticStore(db.conn)
        self.index: SemanticIndex | None = None
        self.problem: str | None = None  # why no lookup can be made here (no embedding model could be loaded)
        self._lock = asyncio.Lock()
        self._asked: OrderedDict[tuple[str, ...], Embedded] = OrderedDict()

    @property
    def embedder(self) -> str | None:
        """Which embedding model answers lookups in this process (None until the first one)."""
        return self.index.embedder.name if self.index is not None else None

    async def warm(self) -> None:
        """Load the embedding model and the index ahead of the first question (the chat app does, while you type)."""
        index = await self._ready()
        if index is not None:
            await self._catch_up(index)

    async def _ready(self) -> SemanticIndex | None:
        async with self._lock:
            if self.index is None and self.problem is None:
                try:
                    embedder = await self._choose()
                except Exception as exc:  # a cache only ever saves work: no model means no similar-question hits
                    self.problem = _why(exc)
                    return None
                self.index = await asyncio.to_thread(self._build, embedder)
        return self.index

    def _build(self, embedder: Embedder) -> SemanticIndex:
        from assistant.engine.semantic_index import SemanticIndex
        from assistant.semantic.decide import Matcher, thresholds_for

        matcher = Matcher(embedder, thresholds_for(embedder.name, self.settings.semantic_threshold))
        index = SemanticIndex(self.store, embedder, matcher)
        matcher.source = index.source
        return index

    async def _choose(self) -> Embedder:
        """A local provider's embedding model (auto, local), else the bundled one (auto, wordllama)."""
        from assistant.semantic.embedder import EmbedderUnavailable

        if self.settings.semantic_embedder != "wordllama":
            for name, provider in self.local_embedders():
                model = await provider.embedding_model(self.settings.semantic_model)
                if not model:
                    continue
                try:
                    probe = await provider.embed(model, ["dimension probe"])
                except AssistantError:
                    continue
                from assistant.engine.semantic_index import LoopEmbedder

                return LoopEmbedder(f"{name}:{model}", len(probe[0]), partial(provider.embed, model),
                                    asyncio.get_running_loop(), EMBED_TIMEOUT)
            if self.settings.semantic_embedder == "local":
                raise EmbedderUnavailable("no local provider has an embedding model (`ollama pull nomic-embed-text` "
                                          "adds one), and [cache] semantic_embedder is local")
        from assistant.semantic.embedder import WordLlamaEmbedder

        return await asyncio.to_thread(WordLlamaEmbedder)

    async def _catch_up(self, index: SemanticIndex) -> None:
        """Index what other processes added, embedding the questions stored without vectors of this model."""
        from assistant.engine.semantic_index import context_of_entry

        missing = await self.db.call(index.refresh)
        if missing:
            vectors = await asyncio.to_thread(index.embed, [context_of_entry(e) for e in missing])
            await self.db.call(index.store_vectors, missing, vectors)

    async def lookup(self, lookup: Lookup) -> Hit | None:
        if lookup.similar == "off" or not lookup.requests or not in_scope(lookup.requests[0]):
            return None
        try:
            index = await self._ready()
            if index is None:
                return None
            await self._catch_up(index)
            from assistant.semantic.decide import reduce

            context = reduce(conversation(lookup.requests[0]))
            asked = (await asyncio.to_thread(index.embed, [context]))[0]
            self._asked[lookup.keys] = asked
            while len(self._asked) > 64:  # kept for the answer that follows a miss; a few requests at a time
                self._asked.popitem(last=False)
            groups = [(str(r.model), fingerprint(r.settings)) for r in lookup.requests]
            return await self.db.call(self._find, index, asked, groups)
        except Exception:  # never fails a request: the answer just comes from a model
            return None

    def _find(self, index: SemanticIndex, asked: Embedded, groups: list[tuple[str, str]]) -> Hit | None:
        self.store.bump(f"lookups:{index.embedder.name}")
        for _ in range(4):  # an entry whose answer left the exact cache is dropped, and the next one tried
            found = index.find(asked, groups)
            if found is None:
                return None
            if found.entry_id is None or found.cache_key is None:
                self.store.bump("near_miss")
                return None
            answer = self.cache.get(found.cache_key)
            if answer is not None:
                return Hit(answer, self.name, found.similarity, found.prompt, found.entry_id)
            index.drop(found.entry_id)
        return None

    def keep(self, lookup: Lookup, request: ProviderRequest, entry: CachedAnswer) -> None:
        """Store a fresh answer's question (database thread); with vectors when its lookup embedded it."""
        if not in_scope(request):
            return
        question = question_of(conversation(request), str(request.model), fingerprint(request.settings), entry.key)
        asked = self._asked.pop(lookup.keys, None)
        if self.index is not None:
            self.index.keep(question, asked)
        else:
            self.store.put(question)

    def adopt(self, hit: Hit) -> None:
        """Answers found in nearer tiers are identical requests, which that tier already serves."""

    def forget(self, entry_id: int, messages: list[tuple[str, str]], similarity: float) -> bool:
        """The user marked a served answer wrong (database thread): never this pair again, and a stricter entry."""
        from assistant.engine.semantic_index import forget_values

        done = forget_values(self.store, entry_id, messages, similarity)
        if done and self.index is not None:
            self.index.forget(entry_id, messages, similarity)
        return done

    def clear(self) -> int:
        """Every similar-question entry (database thread); `cache clear` calls it with the exact tier's clear."""
        removed = self.store.clear()
        if self.index is not None:
            self.index.clear()
        return removed


def _why(exc: BaseException) -> str:
    if isinstance(exc, AssistantError):
        return exc.message
    return str(exc) or type(exc).__name__
