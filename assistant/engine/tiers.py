"""Cache tiers behind one seam: each looks for an earlier answer to a request and keeps new answers.

The engine asks the tiers in order (nearest and cheapest first) and replays the first hit. Today there is the exact
tier (memory, then the SQLite file); a team store and a similar-question tier plug in here the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from assistant.core.records import CachedAnswer
from assistant.core.types import ProviderRequest
from assistant.storage.cache import ResponseCache
from assistant.storage.db import Database


@dataclass(frozen=True)
class Lookup:
    """One request as the tiers see it: the exact request (and its b3 key) for each model it could go to."""

    keys: tuple[str, ...]
    requests: tuple[ProviderRequest, ...]
    private: bool = False  # kept out of anything shared beyond this machine


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

        def persistent() -> CachedAnswer | None:
            for key in lookup.keys:
                found = self.cache.get(key)
                if found is not None:
                    return found
            return None
        found = await self.db.call(persistent)
        return Hit(found, self.name) if found is not None else None

    def keep(self, lookup: Lookup, request: ProviderRequest, entry: CachedAnswer) -> None:
        self.cache.put(entry)

    def adopt(self, hit: Hit) -> None:
        if hit.tier != self.name and hit.similarity is None:  # only identical requests are kept as exact answers
            self.cache.put(hit.entry)


class Tiers:
    """The tiers in order; the first hit wins and is copied into the tiers before it."""

    def __init__(self, tiers: Sequence[Tier]) -> None:
        self.tiers = list(tiers)

    def add(self, tier: Tier) -> None:
        self.tiers.append(tier)

    async def lookup(self, lookup: Lookup) -> tuple[Hit | None, list[Tier]]:
        """The first hit, and the nearer tiers that missed (they adopt it once the answer is recorded)."""
        missed: list[Tier] = []
        for tier in self.tiers:
            hit = await tier.lookup(lookup)
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
