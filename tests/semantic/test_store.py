"""The semantic tier's table in a real SQLite file: one row per answer, vectors per model, marks, clearing, indexes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from assistant.engine.semantic_index import SemanticIndex, context_of_entry, forget_values
from assistant.engine.semantic_tier import question_of
from assistant.semantic.decide import Matcher, reduce
from assistant.semantic.embedder import WordLlamaEmbedder
from assistant.storage.db import open_database
from assistant.storage.semantic_store import Question, SemanticStore, Vectors

MODEL, SETTINGS = "ollama:llama3.2:latest", '{"max_tokens": 1024}'


def _index(store: SemanticStore, embedder: WordLlamaEmbedder) -> SemanticIndex:
    matcher = Matcher(embedder)
    index = SemanticIndex(store, embedder, matcher)
    matcher.source = index.source
    return index


def _question(prompt: str, key: str) -> Question:
    return question_of(prompt, MODEL, SETTINGS, key)


def _plan(conn: sqlite3.Connection, sql: str) -> str:
    return " ".join(str(r[-1]) for r in conn.execute("EXPLAIN QUERY PLAN " + sql))


def test_the_lookups_use_their_indexes(tmp_path: Path) -> None:
    conn = open_database(tmp_path / "a.db").conn
    assert "PRIMARY KEY" in _plan(conn, "SELECT entry_id FROM semantic_vectors WHERE embedder = 'e' ORDER BY entry_id")
    assert "INTEGER PRIMARY KEY" in _plan(conn, "SELECT id FROM semantic_cache WHERE id > 5")
    assert "idx_calls_similar" in _plan(conn, "SELECT m.id, s.similarity FROM messages m LEFT JOIN calls s ON "
                                              "s.message_id = m.id AND s.similarity IS NOT NULL AND s.cached = 1 "
                                              "WHERE m.conversation_id = 'c'")


def test_one_row_per_answer_and_vectors_per_model(tmp_path: Path, embedder: WordLlamaEmbedder) -> None:
    store = SemanticStore(open_database(tmp_path / "a.db").conn)
    first = store.put(_question("How do I tie a tie?", "b3:aa"))
    assert store.put(_question("How do I tie a tie?", "b3:aa")) == first and store.count() == 1
    assert [e.id for e in store.unembedded(embedder.name, 10)] == [first]
    store.put_vectors("other-model", [(first, Vectors(b"\0\0" * 4))])
    store.put_vectors(embedder.name, [(999, Vectors(b"\0\0" * 4))])  # an entry another process deleted: ignored
    assert store.counts_by_embedder() == {"other-model": 1}
    index = _index(store, embedder)
    missing = index.refresh()  # the first load finds the question without vectors of this model
    assert [e.id for e in missing] == [first]
    index.store_vectors(missing, index.embed([context_of_entry(e) for e in missing]))
    assert store.counts_by_embedder() == {"other-model": 1, embedder.name: 1}
    asked = index.embed([reduce("how do i tie a tie")])[0]
    found = index.find(asked, [(MODEL, SETTINGS)])
    assert found is not None and found.entry_id == first and found.cache_key == "b3:aa"
    assert index.find(asked, [("openai:gpt-4o-mini", SETTINGS)]) is None  # another model never shares


def test_new_rows_of_another_process_are_read_by_id(tmp_path: Path, embedder: WordLlamaEmbedder) -> None:
    path = tmp_path / "a.db"
    reader = _index(SemanticStore(open_database(path).conn), embedder)
    assert reader.refresh() == []
    writer = SemanticStore(open_database(path).conn)
    entry = writer.put(_question("What is photosynthesis?", "b3:bb"))
    assert [e.id for e in reader.refresh()] == [entry]  # no vectors yet: the reader embeds it
    assert reader.refresh() == []


def test_marks_survive_a_reload_and_raise_the_entry(tmp_path: Path, embedder: WordLlamaEmbedder) -> None:
    path = tmp_path / "a.db"
    store = SemanticStore(open_database(path).conn)
    entry = store.put(_question("How do I make cold brew coffee at home?", "b3:aa"))
    asked = "What's the method for making cold brew coffee at home?"
    assert forget_values(store, entry, asked, 0.81)
    row = store.get(entry, "")
    assert row is not None and row.threshold is not None and row.threshold > 0.81
    assert not forget_values(store, 12345, asked, 0.9)
    reloaded = _index(SemanticStore(open_database(path).conn), embedder)
    missing = reloaded.refresh()
    reloaded.store_vectors(missing, reloaded.embed([context_of_entry(e) for e in missing]))
    result = reloaded.find(reloaded.embed([reduce(asked)])[0], [(MODEL, SETTINGS)])
    assert result is not None and result.entry_id is None and "marked wrong" in (result.near_miss or "")
    assert store.counters()["forgotten"] == 1


def test_orphans_and_clear(tmp_path: Path) -> None:
    store = SemanticStore(open_database(tmp_path / "a.db").conn)
    store.put(_question("How do I tie a tie?", "b3:gone"))
    assert store.delete_orphans() == 1 and store.count() == 0  # its answer is not in the exact cache
    store.put(_question("How do I tie a tie?", "b3:aa"), "m", Vectors(b"\0\0"))
    store.bump("near_miss")
    store.bump("near_miss", 2)
    assert store.counters() == {"near_miss": 3, "forgotten": 0}
    assert store.clear() == 1 and store.count() == 0 and store.counts_by_embedder() == {}

