"""The response cache: a bounded in-memory LRU (hot tier) over a SQLite table (persistent tier)."""

from __future__ import annotations

import sqlite3
import threading
import time
import zlib
from array import array
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from assistant.core.cache_key import KEY_SCHEME
from assistant.core.config import CacheSettings
from assistant.core.records import CachedAnswer
from assistant.storage.boundary import boundary
from assistant.storage.tx import transaction

if TYPE_CHECKING:
    from assistant.core.reports import PruneResult

# Bytes an entry costs on disk besides its text: key, names, numbers and its index entries.
ROW_OVERHEAD = 200
# The hot tier is bounded in bytes as well as entries, so a few huge answers cannot eat the laptop's memory.
HOT_MAX_BYTES = 32 * 1024 * 1024
HOT_MAX_ENTRY = 1024 * 1024
# Another process may clear or replace entries; the hot tier re-checks the shared generation this often.
GENERATION_CHECK_SECONDS = 1.0
# Hits are written back (LRU position, hit count) in batches by the next store, prune or close: a lookup never
# writes. Only if that many hits pile up with no store in between does a lookup write them (a read-only burst).
# A hit is logged as its row id in a flat array: a dict of keys held every hit key alive until the flush, and the
# allocations it grew by doubled the slowest lookups (p99).
FLUSH_ON_LOOKUP_AFTER = 65_536
# About one put in this many checks the limits; keys are hashes, so the checks spread evenly over processes.
LIMIT_CHECK_EVERY = 32
DAY = 86400.0


_DEFAULTS = CacheSettings()


@dataclass(frozen=True)
class CacheLimits:
    """Zero or less switches a limit off; the defaults are config.toml's."""

    ttl_seconds: float = _DEFAULTS.ttl_days * DAY
    max_entries: int = _DEFAULTS.max_entries
    max_bytes: int = int(_DEFAULTS.max_mb * 1024 * 1024)
    hot_entries: int = _DEFAULTS.hot_entries

    @classmethod
    def from_settings(cls, cache: CacheSettings) -> CacheLimits:
        return cls(cache.ttl_days * DAY, cache.max_entries, int(cache.max_mb * 1024 * 1024), cache.hot_entries)


_COLS = "key, provider, model, text, input_tokens, output_tokens, cost_usd, cost_estimated, ttft_ms, total_ms, created_at"
SELECT_ENTRY = f"SELECT {_COLS}, id FROM response_cache WHERE key = ?"
_INSERT = (f"INSERT OR REPLACE INTO response_cache ({_COLS}, last_used_at, hits, size_bytes, scheme) "
           "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,0,?,?)")
# By row id: a row another process replaced meanwhile has a new id, so its stale hits fall on nothing.
_TOUCH = "UPDATE response_cache SET hits = hits + ?, last_used_at = max(last_used_at, ?) WHERE id = ?"


def entry_size(entry: CachedAnswer) -> int:
    return len(entry.text.encode("utf-8", "surrogatepass")) + ROW_OVERHEAD


class ResponseCache:
    """Thread-safe (one lock); shared safely between processes through WAL, busy timeouts and a generation counter.

    The cache only ever saves work: a database error while reading or writing it is treated as a miss or a
    skipped store, never as a failed answer.
    """

    def __init__(self, conn: sqlite3.Connection, limits: CacheLimits | None = None, *, scheme: int = KEY_SCHEME) -> None:
        self.conn = conn
        self.limits = limits or CacheLimits()
        # The key scheme entries are stored under; `prune(old_schemes=True)` removes every other one.
        self.scheme = scheme
        self._hot: OrderedDict[str, tuple[CachedAnswer, int]] = OrderedDict()  # key -> (entry, its row id)
        self._hot_bytes = 0
        self._hits = array("q")  # row ids of hits not yet written back, one per hit
        self._lock = threading.RLock()
        self._cur = conn.cursor()  # one cursor, so the lookup reuses sqlite3's prepared statement
        self._next_check = 0.0
        self._data_version: int | None = None
        self._generation: int | None = None

    @classmethod
    def from_settings(cls, conn: sqlite3.Connection, cache: CacheSettings, scheme: int) -> ResponseCache:
        return cls(conn, CacheLimits.from_settings(cache), scheme=scheme)

    # lookups ----------------------------------------------------------------------------------
    def get(self, key: str) -> CachedAnswer | None:
        """Hot tier first, then SQLite; a hit moves to the front of the LRU (written back later)."""
        now = time.time()
        ttl = self.limits.ttl_seconds
        with self._lock:
            if now >= self._next_check:
                self._check_generation(now)
            held = self._hot.get(key)
            if held is not None:
                if ttl <= 0 or now - held[0].created_at <= ttl:
                    self._hot.move_to_end(key)
                    self._touch(held[1])
                    return held[0]
                self._drop_hot(key)
            try:
                row = self._first(SELECT_ENTRY, (key,))
            except sqlite3.Error:
                return None
            if row is None or (ttl > 0 and now - row[10] > ttl):
                return None
            entry = CachedAnswer(row[0], row[1], row[2], row[3], row[4], row[5], row[6], bool(row[7]), row[8], row[9],
                                 row[10])
            self._remember(entry, row[11])
            self._touch(row[11])
            return entry

    def get_hot(self, key: str) -> CachedAnswer | None:
        """A hit from memory that never touches SQLite (so it may run on the event loop); None means ask `get`,
        which also re-checks, at most once a second, whether another process cleared entries."""
        with self._lock:
            held = self._hot.get(key)
            now = time.time()
            ttl = self.limits.ttl_seconds
            if held is None or now >= self._next_check or (ttl > 0 and now - held[0].created_at > ttl):
                return None
            self._hot.move_to_end(key)
            self._hits.append(held[1])  # written back by the next store, prune or flush
            return held[0]

    def _first(self, sql: str, params: tuple[object, ...] = ()) -> tuple[Any, ...] | None:
        """First row or None. fetchall() runs the statement to its end: a statement left open after fetchone()
        keeps a read transaction open, and the connection's next write then fails at once with "database is
        locked" (SQLITE_BUSY_SNAPSHOT) if another process wrote meanwhile."""
        rows = self._cur.execute(sql, params).fetchall()
        return rows[0] if rows else None

    def _one(self, sql: str) -> int:
        row = self._first(sql)
        return int(row[0]) if row else 0

    def _touch(self, rowid: int) -> None:
        self._hits.append(rowid)
        if len(self._hits) >= FLUSH_ON_LOOKUP_AFTER:
            self._flush_locked()

    def flush(self) -> None:
        """Write pending hits (LRU position and count) to the database; call before closing."""
        with self._lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        """Every hit since the last flush counts as used now: LRU order is kept to the flush, which is all
        eviction needs (entries hit since the last store are all newer than the ones that were not)."""
        if not self._hits:
            return
        now = time.time()
        counts: dict[int, int] = {}
        for rowid in self._hits:
            counts[rowid] = counts.get(rowid, 0) + 1
        self._hits = array("q")
        rows = [(n, now, rowid) for rowid, n in counts.items()]
        try:
            self._write(lambda: self.conn.executemany(_TOUCH, rows))
        except sqlite3.Error:
            pass  # LRU positions are a hint; losing one batch only makes eviction slightly less exact

    def _write(self, work: Callable[[], object]) -> None:
        """Run `work` in one transaction unless the caller already holds one."""
        with transaction(self.conn):
            work()

    def _check_generation(self, now: float) -> None:
        """Drop the hot tier when another process cleared, pruned or replaced entries since we last looked."""
        self._next_check = now + GENERATION_CHECK_SECONDS
        try:
            version = self._one("PRAGMA data_version")
            if version == self._data_version:
                return
            self._data_version = version
            generation = self._one("SELECT generation FROM cache_state WHERE id = 1")
        except sqlite3.Error:
            return
        if self._generation is not None and generation != self._generation:
            self._hot.clear()
            self._hot_bytes = 0
        self._generation = generation

    def _bump_generation(self) -> None:
        row = self.conn.execute("UPDATE cache_state SET generation = generation + 1 WHERE id = 1 RETURNING generation").fetchone()
        self._generation = row[0] if row else self._generation

    # the hot tier -----------------------------------------------------------------------------
    def _remember(self, entry: CachedAnswer, rowid: int) -> None:
        size = len(entry.text)
        if self.limits.hot_entries <= 0 or size > HOT_MAX_ENTRY:
            return
        self._drop_hot(entry.key)
        self._hot[entry.key] = (entry, rowid)
        self._hot_bytes += size
        while len(self._hot) > self.limits.hot_entries or self._hot_bytes > HOT_MAX_BYTES:
            _, (old, _) = self._hot.popitem(last=False)
            self._hot_bytes -= len(old.text)

    def _drop_hot(self, key: str) -> None:
        old = self._hot.pop(key, None)
        if old is not None:
            self._hot_bytes -= len(old[0].text)

    def forget_hot(self) -> None:
        with self._lock:
            self._hot.clear()
            self._hot_bytes = 0

    # stores -----------------------------------------------------------------------------------
    def put(self, entry: CachedAnswer, *, scheme: int | None = None) -> bool:
        """Store a complete answer; a later answer for the same key (regenerate) replaces it. False if skipped."""
        if not entry.text.strip():
            return False  # an empty answer is a failure in disguise; asking again should really ask again
        scheme = self.scheme if scheme is None else scheme
        values = (entry.key, entry.provider, entry.model, entry.text, entry.input_tokens, entry.output_tokens,
                  entry.cost_usd, int(entry.cost_estimated), entry.ttft_ms, entry.total_ms, entry.created_at,
                  entry.created_at, entry_size(entry), scheme)
        with self._lock:
            self._flush_locked()

            rowid = [0]

            def store() -> None:
                replaced = self.conn.execute("SELECT 1 FROM response_cache WHERE key = ?", (entry.key,)).fetchone()
                rowid[0] = self.conn.execute(_INSERT, values).lastrowid or 0
                if replaced:  # other processes must stop serving the old answer from memory
                    self._bump_generation()

            try:
                self._write(store)
            except sqlite3.Error:
                return False
            self._remember(entry, rowid[0])
            if zlib.crc32(entry.key.encode()) % LIMIT_CHECK_EVERY == 0:
                try:
                    self.prune(now=entry.created_at)
                except sqlite3.Error:
                    pass  # the next check will catch up
        return True

    @boundary
    def put_many(self, entries: list[CachedAnswer], *, scheme: int) -> None:
        """Bulk load (imports, benchmarks) in one transaction; limits are applied once at the end."""
        rows = [(e.key, e.provider, e.model, e.text, e.input_tokens, e.output_tokens, e.cost_usd, int(e.cost_estimated),
                 e.ttft_ms, e.total_ms, e.created_at, e.created_at, entry_size(e), scheme) for e in entries if e.text.strip()]
        with self._lock:
            self._write(lambda: self.conn.executemany(_INSERT, rows))
            self.prune()

    # limits and housekeeping ------------------------------------------------------------------
    @boundary
    def prune(self, *, now: float | None = None, old_schemes: bool = False) -> PruneResult:
        """Apply the TTL, then evict least recently used entries until within max entries and max bytes."""
        now = time.time() if now is None else now
        limits = self.limits
        with self._lock:
            self._flush_locked()
            result: list[int] = [0, 0, 0]
            evicted: list[tuple[str]] = []

            def work() -> None:
                if limits.ttl_seconds > 0:
                    result[0] = self.conn.execute("DELETE FROM response_cache WHERE created_at < ?",
                                                  (now - limits.ttl_seconds,)).rowcount
                if old_schemes:
                    result[2] = self.conn.execute("DELETE FROM response_cache WHERE scheme <> ?", (self.scheme,)).rowcount
                count, size = self.conn.execute("SELECT count(*), total(size_bytes) FROM response_cache").fetchone()
                over_n = count - limits.max_entries if limits.max_entries > 0 else 0
                over_b = size - limits.max_bytes if limits.max_bytes > 0 else 0
                if over_n > 0 or over_b > 0:
                    # Oldest first, read from the (last_used_at, size_bytes) index alone.
                    lru = self.conn.execute("SELECT id, size_bytes FROM response_cache ORDER BY last_used_at")
                    doomed = []
                    for rowid, nbytes in lru:
                        if over_n <= 0 and over_b <= 0:
                            break
                        doomed.append(rowid)
                        over_n -= 1
                        over_b -= nbytes
                    lru.close()
                    for rowid in doomed:
                        evicted.extend(self.conn.execute("DELETE FROM response_cache WHERE id = ? RETURNING key", (rowid,)))
                result[1] = len(evicted)
                if sum(result):
                    self._bump_generation()

            self._write(work)
            for (key,) in evicted:
                self._drop_hot(key)
        from assistant.core.reports import PruneResult

        return PruneResult(result[0], result[1], result[2])

    @boundary
    def compact(self) -> None:
        """Give freed pages back to the file system and refresh the planner's statistics."""
        with self._lock:
            self._flush_locked()
            self.conn.execute("VACUUM")
            self.conn.execute("PRAGMA optimize")

    @boundary
    def clear(self, *, provider: str | None = None, models: tuple[str, ...] = (), older_than: float | None = None,
              now: float | None = None) -> int:
        """Delete matching entries (all of them with no filter); return how many went."""
        where: list[str] = []
        args: list[object] = []
        if provider:
            where.append("provider = ?")
            args.append(provider)
        if models:
            where.append(f"model IN ({','.join('?' * len(models))})")
            args.extend(models)
        if older_than is not None:
            where.append("created_at < ?")
            args.append((time.time() if now is None else now) - older_than)
        sql = "DELETE FROM response_cache" + (" WHERE " + " AND ".join(where) if where else "")
        removed = [0]

        def work() -> None:
            removed[0] = self.conn.execute(sql, args).rowcount
            if removed[0]:
                self._bump_generation()

        with self._lock:
            self._flush_locked()
            self._write(work)
            self._hot.clear()
            self._hot_bytes = 0
        return removed[0]

    @boundary
    def size(self) -> tuple[int, int]:
        """Entries and bytes on disk."""
        count, size = self.conn.execute("SELECT count(*), total(size_bytes) FROM response_cache").fetchone()
        return int(count), int(size)

    @boundary
    def database_bytes(self) -> int:
        page_size = self.conn.execute("PRAGMA page_size").fetchone()[0]
        pages = self.conn.execute("PRAGMA page_count").fetchone()[0]
        return int(page_size) * int(pages)

