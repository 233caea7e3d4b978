"""Cache tiers behind one seam: each looks for an earlier answer to a request and keeps new answers.

The engine asks the tiers in order (nearest and cheapest first) and replays the first hit: the exact tier (memory,
then the SQLite file), the team store (engine/team_tier.py), then a similar-question tier; `ORDER` is the one place
that order is written down.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from assistant.core.records import CachedAnswer
from assistant.core.types import ProviderRequest
from assistant.storage.cache import ResponseCache
from assistant.storage.db import Database

# Nearest first. A tier of another name goes last, in the order it was added.
ORDER = ("exact", "team", "semantic")
# How a replayed answer is described (the route line, the history), by the tier that served it.
REPLAYED = {"exact": "cached answer", "team": "from the team cache", "semantic": "similar question"}


@dataclass(frozen=True)
class Lookup:
    """One request as the tiers see it: the exact request (and its b3 key) for each model it could go to."""

    keys: tuple[str, ...]
    requests: tuple[ProviderRequest, ...]
    private: bool = False  # kept out of anything shared beyond this machine
    similar: str = "off"  # whether similar (not identical) questions may answer: "off", "suggest" or "serve"


@dataclass(frozen=True)
class Hit:
    entry: CachedAnswer
    tier: str  # which tier answered: "exact", "team" or "semantic"
    similarity: float | None = None  # for a similar (not identical) question
    similar_prompt: str | None = None  # the earlier question it was answered for
    match_id: int | None = None  # the tier's own id of the match, so the user can mark it wrong


class Tier(Protocol):
    name: str

    async def lookup(self, lookup: Lookup) -> Hit | None:
        """An earlier answer to this request, or None; never raises (a cache only ever saves work)."""

    def keep(self, lookup: Lookup, request: ProviderRequest, entry: CachedAnswer) -> None:
        """Store a fresh answer (called on the database thread, after the answer is recorded)."""

    def adopt(self, hit: Hit) -> None:
        """Copy a hit found in a further tier, so the next lookup stops here (database thread)."""


class ExactTier:
    """Memory first (no SQLite, so on the event loop), then the SQLite file on the database thread."""

    name = "exact"

    def __init__(self, cache: ResponseCache, db: Database) -> None:
        self.cache = cache
        self.db = db

    async def lookup(self, lookup: Lookup) -> Hit | None:
        for key in lookup.keys:
            hot = self.cache.get_hot(key)
            if hot is not None:
                return Hit(hot, self.name)
        return await self.db.call(self.find, lookup)

    def find(self, lookup: Lookup) -> Hit | None:
        """Memory, then the file: on the database thread (where a new turn is recorded, in the same hop)."""
        for key in lookup.keys:
            found = self.cache.get(key)  # the hot tier first, then SQLite
            if found is not None:
                return Hit(found, self.name)
        return None

    def keep(self, lookup: Lookup, request: ProviderRequest, entry: CachedAnswer) -> None:
        self.cache.put(entry)

    def adopt(self, hit: Hit) -> None:
        if hit.tier != self.name and hit.similarity is None:  # only identical requests are kept as exact answers
            self.cache.put(hit.entry)


class Tiers:
    """The tiers in ORDER; the first hit wins and is copied into the tiers before it."""

    def __init__(self, tiers: Sequence[Tier]) -> None:
        self.tiers: list[Tier] = []
        for tier in tiers:
            self.add(tier)

    def add(self, tier: Tier) -> None:
        """Put the tier in its place in ORDER, whenever it is added."""
        def rank(t: Tier) -> int:
            return ORDER.index(t.name) if t.name in ORDER else len(ORDER)
        at = next((i for i, t in enumerate(self.tiers) if rank(t) > rank(tier)), len(self.tiers))
        self.tiers.insert(at, tier)

    def named(self, name: str) -> Tier | None:
        return next((t for t in self.tiers if t.name == name), None)

    async def lookup(self, lookup: Lookup, known: Mapping[str, Hit | None] | None = None,
                     ) -> tuple[Hit | None, list[Tier]]:
        """The first hit, and the nearer tiers that missed (they adopt it once the answer is recorded). `known`:
        what some tiers already answered for this very lookup."""
        missed: list[Tier] = []
        for tier in self.tiers:
            hit = known[tier.name] if known and tier.name in known else await tier.lookup(lookup)
            if hit is not None:
                return hit, missed
            missed.append(tier)
        return None, missed

    def keep(self, lookup: Lookup, request: ProviderRequest, entry: CachedAnswer) -> None:
        for tier in self.tiers:
            try:
                tier.keep(lookup, request, entry)
            except Exception:  # a tier that cannot keep an answer costs a later hit, never this answer
                continue

    @staticmethod
    def adopt(missed: Sequence[Tier], hit: Hit) -> None:
        for tier in missed:
            try:
                tier.adopt(hit)
            except Exception:  # as above: only a future hit is lost
                continue
