"""The cache-tier seam: tiers are asked in order, a hit from a further tier is copied nearer, and says where it came from."""

from __future__ import annotations

import time
from pathlib import Path

from assistant.core.records import CachedAnswer
from assistant.core.types import ChatRequest, ProviderRequest, Usage
from assistant.engine.tiers import Hit, Lookup
from tests.helpers import ScriptedProvider, collect, finished, make_engine


class SharedTier:
    """A tier further away than the exact cache (as a team store is): answers from its own dict."""

    name = "team"

    def __init__(self) -> None:
        self.entries: dict[str, CachedAnswer] = {}
        self.asked: list[tuple[str, ...]] = []

    async def lookup(self, lookup: Lookup) -> Hit | None:
        self.asked.append(lookup.keys)
        found = next((self.entries[k] for k in lookup.keys if k in self.entries), None)
        return Hit(found, self.name) if found else None

    def keep(self, lookup: Lookup, request: ProviderRequest, entry: CachedAnswer) -> None:
        self.entries[entry.key] = entry

    def adopt(self, hit: Hit) -> None:
        return None


def providers() -> list[ScriptedProvider]:
    return [ScriptedProvider("ollama", [["Paris.", Usage(10, 2)]], model="llama3.2:latest"),
            ScriptedProvider("embedded", [["unused"]], available=False)]


async def test_a_hit_from_a_further_tier_is_replayed_credited_and_copied_nearer(tmp_path: Path) -> None:
    first = make_engine(tmp_path / "a", providers())
    shared = SharedTier()
    first.tiers.add(shared)
    fresh = finished(await collect(first, ChatRequest("Capital of France?"))).answer
    assert fresh.cache is None and len(shared.entries) == 1  # a fresh answer is kept by every tier
    await first.aclose()

    second_providers = providers()
    second = make_engine(tmp_path / "b", second_providers)  # another machine: its own, empty database
    second.tiers.add(shared)
    hit = finished(await collect(second, ChatRequest("Capital of France?"))).answer
    assert (hit.cached, hit.cache, hit.text, hit.cost_usd) == (True, "team", "Paris.", 0.0)
    assert "from the team cache" in hit.route_reason and hit.as_json()["cache"] == "team"
    assert second_providers[0].requests == []  # nobody was asked
    source = second.conn.execute("SELECT saved_source FROM calls WHERE cached = 1").fetchone()[0]
    assert source == "team"
    asked = len(shared.asked)
    again = finished(await collect(second, ChatRequest("Capital of France?"))).answer
    assert again.cache == "exact" and len(shared.asked) == asked  # copied into the exact tier: the far tier rests
    await second.aclose()


async def test_similar_hits_are_described_and_never_kept_as_exact_answers(tmp_path: Path) -> None:
    class Similar(SharedTier):
        name = "semantic"

        async def lookup(self, lookup: Lookup) -> Hit | None:
            entry = CachedAnswer("b3:other", "ollama", "llama3.2:latest", "Paris.", 10, 2, 0.0, False, None, None,
                                 time.time())
            return Hit(entry, self.name, similarity=0.97, similar_prompt="What's France's capital?", match_id=7)

    engine = make_engine(tmp_path, providers())
    engine.tiers.add(Similar())
    hit = finished(await collect(engine, ChatRequest("Capital of France?"))).answer
    assert hit.cache == "semantic" and "similar question from" in hit.route_reason
    data = hit.as_json()
    assert data["similarity"] == 0.97 and data["similar_prompt"] == "What's France's capital?"
    assert engine.conn.execute("SELECT count(*) FROM response_cache").fetchone()[0] == 0
    await engine.aclose()
