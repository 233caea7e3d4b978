"""ResponseCache on a real SQLite file: tiers, TTL, LRU limits, clear, write-back, threads and migration."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from assistant.core.records import CachedAnswer
from assistant.storage import cache as cache_mod
from assistant.storage.cache import CacheLimits, ResponseCache, entry_size
from assistant.storage.db import open_database
from assistant.storage.migrations import migrate


def answer(key: str, text: str = "an answer", *, provider: str = "openai", model: str = "gpt-4o-mini",
           created: float | None = None) -> CachedAnswer:
    return CachedAnswer(key, provider, model, text, 10, 20, 0.001, False, 100.0, 900.0,
                        time.time() if created is None else created)


def open_cache(path: Path, **limits: object) -> ResponseCache:
    return ResponseCache(open_database(path).conn, CacheLimits(**limits))  # type: ignore[arg-type]


def keys_on_disk(cache: ResponseCache) -> set[str]:
    return {k for (k,) in cache.conn.execute("SELECT key FROM response_cache")}


def test_put_then_get_from_both_tiers(tmp_path: Path) -> None:
    cache = open_cache(tmp_path / "a.db")
    entry = answer("b3:1", "Paris.")
    assert cache.put(entry)
    assert cache.get("b3:1") == entry  # hot
    cache.forget_hot()
    assert cache.get("b3:1") == entry  # from SQLite
    assert cache.get("b3:missing") is None
    cold = ResponseCache(open_database(tmp_path / "a.db").conn, CacheLimits(hot_entries=0))
    assert cold.get("b3:1") == entry


def test_ttl_hides_and_prune_removes_expired_entries(tmp_path: Path) -> None:
    cache = open_cache(tmp_path / "a.db", ttl_seconds=100)
    cache.put(answer("b3:old", created=time.time() - 1000))
    cache.put(answer("b3:new"))
    assert cache.get("b3:old") is None
    cache.forget_hot()
    assert cache.get("b3:old") is None and cache.get("b3:new") is not None
    assert cache.prune().expired == 1 and keys_on_disk(cache) == {"b3:new"}


def test_lru_eviction_by_entries_keeps_the_recently_used(tmp_path: Path) -> None:
    cache = open_cache(tmp_path / "a.db", max_entries=3)
    now = time.time()
    for i in range(5):
        cache.put(answer(f"b3:{i}", created=now - 100 + i))
    cache.get("b3:0")  # used again: moves to the front once written back
    result = cache.prune(now=now)
    assert result.evicted == 2 and keys_on_disk(cache) == {"b3:0", "b3:3", "b3:4"}
    cache.forget_hot()
    assert cache.get("b3:1") is None and cache.get("b3:0") is not None


def test_lru_eviction_by_bytes(tmp_path: Path) -> None:
    one = entry_size(answer("b3:x", "y" * 1000))
    cache = open_cache(tmp_path / "a.db", max_bytes=int(one * 2.5))
    now = time.time()
    for i in range(4):
        cache.put(answer(f"b3:{i}", "y" * 1000, created=now - 10 + i))
    cache.prune(now=now)
    assert keys_on_disk(cache) == {"b3:2", "b3:3"} and cache.size()[1] <= one * 2.5


def test_puts_keep_the_table_bounded_without_an_explicit_prune(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache_mod, "LIMIT_CHECK_EVERY", 4)
    cache = open_cache(tmp_path / "a.db", max_entries=20)
    for i in range(300):
        cache.put(answer(f"b3:{i}"))
    count = cache.size()[0]
    assert count <= 20 + 60  # checked on about one put in four; never unbounded
    assert len(cache._hot) <= cache.limits.hot_entries


def test_hot_tier_is_bounded(tmp_path: Path) -> None:
    cache = open_cache(tmp_path / "a.db", hot_entries=2)
    for i in range(4):
        cache.put(answer(f"b3:{i}"))
    assert list(cache._hot) == ["b3:2", "b3:3"]
    cache.put(answer("b3:huge", "z" * (cache_mod.HOT_MAX_ENTRY + 1)))
    assert "b3:huge" not in cache._hot and cache.get("b3:huge") is not None


def test_hits_are_written_back_on_flush(tmp_path: Path) -> None:
    cache = open_cache(tmp_path / "a.db")
    created = time.time() - 100
    cache.put(answer("b3:1", created=created))
    for _ in range(3):
        cache.get("b3:1")
    assert cache.conn.execute("SELECT hits, last_used_at FROM response_cache").fetchone() == (0, created)
    cache.flush()
    hits, used = cache.conn.execute("SELECT hits, last_used_at FROM response_cache").fetchone()
    assert hits == 3 and used > created


def test_hits_from_memory_count_and_a_replaced_row_takes_none_of_the_old_hits(tmp_path: Path) -> None:
    cache = open_cache(tmp_path / "a.db")
    other = open_cache(tmp_path / "a.db")  # another process sharing the file
    cache.put(answer("b3:1"))
    assert cache.get("b3:1") is not None and cache.get_hot("b3:1") is not None  # both served from memory
    cache.flush()
    assert cache.conn.execute("SELECT hits FROM response_cache").fetchone() == (2,)
    cache.get("b3:1")
    other.put(answer("b3:1", "a regenerated answer"))  # replaces the row before our hit is written back
    cache.flush()
    assert cache.conn.execute("SELECT hits, text FROM response_cache").fetchone() == (0, "a regenerated answer")


def test_clear_by_provider_model_and_age(tmp_path: Path) -> None:
    cache = open_cache(tmp_path / "a.db")
    now = time.time()
    cache.put(answer("b3:a", provider="openai", model="gpt-4o-mini", created=now - 40 * 86400))
    cache.put(answer("b3:b", provider="openai", model="gpt-4o", created=now))
    cache.put(answer("b3:c", provider="ollama", model="llama3.2:latest", created=now))
    assert cache.clear(older_than=30 * 86400) == 1
    assert cache.clear(provider="openai", models=("gpt-4o",)) == 1
    assert cache.get("b3:b") is None  # gone from memory too
    assert cache.clear() == 1 and keys_on_disk(cache) == set()


def test_another_connection_clearing_drops_our_hot_copies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache_mod, "GENERATION_CHECK_SECONDS", 0.0)
    ours = open_cache(tmp_path / "a.db")
    theirs = open_cache(tmp_path / "a.db")
    ours.put(answer("b3:1", "old"))
    assert ours.get("b3:1") is not None
    theirs.clear()
    assert ours.get("b3:1") is None
    theirs.put(answer("b3:2", "v1"))
    assert ours.get("b3:2").text == "v1"  # type: ignore[union-attr]
    theirs.put(answer("b3:2", "v2"))  # a regenerate elsewhere replaces it
    assert ours.get("b3:2").text == "v2"  # type: ignore[union-attr]


def test_threads_share_one_cache(tmp_path: Path) -> None:
    cache = open_cache(tmp_path / "a.db", hot_entries=16)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(100):
                key = f"b3:{n}-{i % 30}"
                cache.put(answer(key, f"{n}-{i % 30}"))
                got = cache.get(key)
                assert got is not None and got.text == f"{n}-{i % 30}"
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    cache.flush()
    assert errors == [] and cache.size()[0] == 120


def test_database_errors_are_misses_not_failures(tmp_path: Path) -> None:
    cache = open_cache(tmp_path / "a.db", hot_entries=0)
    cache.put(answer("b3:1"))
    cache.conn.execute("DROP TABLE response_cache")
    assert cache.get("b3:1") is None and cache.put(answer("b3:2")) is False


def test_migration_keeps_entries_stored_before_it(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "old.db", isolation_level=None)
    migrate(conn, upto="m003_response_cache")
    conn.execute("INSERT INTO response_cache (key, provider, model, text, input_tokens, output_tokens, cost_usd, "
                 "created_at, last_used_at, size_bytes) VALUES ('b3:old', 'openai', 'm', 'kept', 1, 1, 0.1, ?, ?, 4)",
                 (time.time(), time.time()))
    assert "m004_cache_limits_and_stats" in migrate(conn)
    cache = ResponseCache(conn, scheme=1)  # the scheme its keys were made with: still a valid entry
    assert cache.get("b3:old").text == "kept"  # type: ignore[union-attr]
    assert cache.prune(old_schemes=True).old_scheme == 0
    # Under a newer key scheme it can never match again, and `cache prune` removes it.
    assert ResponseCache(conn).prune(old_schemes=True).old_scheme == 1
