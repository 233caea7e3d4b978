"""The semantic tier in a real SQLite file: migration, reuse across processes' reloads, forget, clear."""

from __future__ import annotations

from pathlib import Path

from assistant.semantic.cache import SemanticCache
from assistant.semantic.embedder import WordLlamaEmbedder
from assistant.storage.db import open_database
from assistant.storage.migrations import MIGRATIONS
from assistant.storage.semantic_store import SemanticStore

MODEL, SETTINGS = "ollama:llama3.2", "t=0.2;max=1024"


def _cache(path: Path, embedder: WordLlamaEmbedder) -> SemanticCache:
    return SemanticCache(SemanticStore(open_database(path).conn), embedder)


def test_migration_creates_both_tables_and_the_lookups_use_indexes(tmp_path: Path) -> None:
    conn = open_database(tmp_path / "a.db").conn
    assert "m010_semantic_cache" in [name for name, _ in MIGRATIONS]
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"semantic_cache", "semantic_forgotten"} <= tables
    for sql, index in (("SELECT id, vector FROM semantic_cache WHERE embedder = 'e' ORDER BY id", "idx_semantic_embedder"),
                       ("SELECT id FROM semantic_cache WHERE cache_key = 'k'", "idx_semantic_key")):
        plan = " ".join(str(r[-1]) for r in conn.execute("EXPLAIN QUERY PLAN " + sql))
        assert index in plan, plan


def test_a_reworded_question_is_served_after_a_reload(tmp_path: Path, embedder: WordLlamaEmbedder) -> None:
    path = tmp_path / "a.db"
    first = _cache(path, embedder)
    miss = first.lookup("How do I reverse a list in Python?", MODEL, SETTINGS)
    assert miss.match is None and miss.asked is not None
    entry = first.remember("How do I reverse a list in Python?", MODEL, SETTINGS, "b3:aa", embedded=miss.asked)
    first.remember("What is the capital of Australia?", MODEL, SETTINGS, "b3:bb")
    again = _cache(path, embedder)  # another process: the index is rebuilt from the table
    found = again.lookup("how do i reverse a list in python", MODEL, SETTINGS).match
    assert found is not None and found.entry_id == entry and found.prompt == "How do I reverse a list in Python?"
    assert found.similarity > 0.9
    again.served(found)
    row = again.store.get(entry)
    assert row is not None and row.hits == 1 and row.cache_key == "b3:aa" and row.embedder == embedder.name
    # another model or other settings never share an answer
    assert again.lookup("how do i reverse a list in python", "openai:gpt-4o-mini", SETTINGS).match is None
    assert again.lookup("how do i reverse a list in python", MODEL, "t=0.9;max=1024").match is None


def test_a_different_question_is_a_near_miss_with_its_reason(tmp_path: Path, embedder: WordLlamaEmbedder) -> None:
    cache = _cache(tmp_path / "a.db", embedder)
    cache.remember("Is the clinic open on Sundays?", MODEL, SETTINGS, "b3:aa")
    result = cache.lookup("Is the clinic closed on Sundays?", MODEL, SETTINGS)
    assert result.match is None and result.near_miss is not None and "open" in result.near_miss
    assert result.near_similarity > 0.7


def test_a_conversation_is_stored_with_its_context(tmp_path: Path, embedder: WordLlamaEmbedder) -> None:
    cache = _cache(tmp_path / "a.db", embedder)
    offer = [{"role": "user", "content": "What broadband plans do you have?"},
             {"role": "assistant", "content": "Fibre 100 is £25 and Fibre 500 is £35. Would you like Fibre 100?"},
             {"role": "user", "content": "yes please"}]
    cache.remember(offer, MODEL, SETTINGS, "b3:cc")
    other = [dict(m) for m in offer]
    other[1]["content"] = "Fibre 100 is £25 and Fibre 500 is £35. Would you like Fibre 500?"
    reloaded = _cache(tmp_path / "a.db", embedder)
    assert reloaded.lookup(offer, MODEL, SETTINGS).match is not None
    assert reloaded.lookup(other, MODEL, SETTINGS).match is None
    assert reloaded.lookup("yes please", MODEL, SETTINGS).match is None


def test_a_pair_marked_wrong_never_matches_again(tmp_path: Path, embedder: WordLlamaEmbedder) -> None:
    path = tmp_path / "a.db"
    cache = _cache(path, embedder)
    entry = cache.remember("How do I make cold brew coffee at home?", MODEL, SETTINGS, "b3:aa")
    asked = "What's the method for making cold brew coffee at home?"
    found = cache.lookup(asked, MODEL, SETTINGS).match
    assert found is not None and found.entry_id == entry
    assert cache.forget(entry, asked, found.similarity)
    assert cache.lookup(asked, MODEL, SETTINGS).match is None
    reloaded = _cache(path, embedder)
    assert reloaded.lookup(asked, MODEL, SETTINGS).match is None
    assert reloaded.lookup("How do I make cold brew coffee at home?", MODEL, SETTINGS).match is not None
    row = reloaded.store.get(entry)
    assert row is not None and row.threshold is not None and row.threshold > found.similarity


def test_clear_and_drop_empty_both_table_and_index(tmp_path: Path, embedder: WordLlamaEmbedder) -> None:
    cache = _cache(tmp_path / "a.db", embedder)
    a = cache.remember("How do I tie a tie?", MODEL, SETTINGS, "b3:aa")
    cache.remember("What is photosynthesis?", MODEL, SETTINGS, "b3:bb")
    cache.forget(a, "how do i tie a tie", 0.95)
    assert cache.drop([a]) == 1
    assert cache.lookup("how do i tie a tie", MODEL, SETTINGS).match is None
    assert cache.store.conn.execute("SELECT count(*) FROM semantic_forgotten").fetchone()[0] == 0
    assert cache.store.delete_for_keys(["b3:bb"]) == 1
    cache.remember("What is photosynthesis?", MODEL, SETTINGS, "b3:bb")
    assert cache.clear() == 1 and cache.store.count() == 0
    assert cache.lookup("what's photosynthesis?", MODEL, SETTINGS).match is None


def test_the_same_answer_is_indexed_once_per_embedder(tmp_path: Path, embedder: WordLlamaEmbedder) -> None:
    cache = _cache(tmp_path / "a.db", embedder)
    first = cache.remember("How do I tie a tie?", MODEL, SETTINGS, "b3:aa")
    second = cache.remember("How do I tie a bow tie?", MODEL, SETTINGS, "b3:aa")
    assert first == second and cache.store.count() == 1
    assert cache.store.counts_by_embedder() == {embedder.name: 1}
