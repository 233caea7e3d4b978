"""The response cache: a bounded in-memory LRU (hot tier) over a SQLite table (persistent tier)."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True)
class CachedAnswer:
    key: str
    provider: str
    model: str
    text: str
    input_tokens: int
    output_tokens: int
    cost_usd: float
    cost_estimated: bool
    ttft_ms: float | None
    total_ms: float | None
    created_at: float


_COLS = "key, provider, model, text, input_tokens, output_tokens, cost_usd, cost_estimated, ttft_ms, total_ms, created_at"


class ResponseCache:
    """Thread-safe; the SQLite tier is shared safely between processes through WAL and busy timeouts."""

    def __init__(self, conn: sqlite3.Connection, *, hot_entries: int = 1024, ttl_seconds: float = 30 * 86400) -> None:
        self.conn = conn
        self.hot_entries = hot_entries
        self.ttl_seconds = ttl_seconds
        self._hot: OrderedDict[str, CachedAnswer] = OrderedDict()
        self._lock = threading.Lock()
        self._select = f"SELECT {_COLS} FROM response_cache WHERE key = ?"

    def _fresh(self, entry: CachedAnswer, now: float) -> bool:
        return self.ttl_seconds <= 0 or now - entry.created_at <= self.ttl_seconds

    def get(self, key: str, *, touch: bool = True) -> CachedAnswer | None:
        """Hot tier first, then SQLite; a hit refreshes its LRU position (hits are counted by `touch`)."""
        now = time.time()
        with self._lock:
            entry = self._hot.get(key)
            if entry is not None:
                if self._fresh(entry, now):
                    self._hot.move_to_end(key)
                else:
                    del self._hot[key]
                    entry = None
        if entry is None:
            row = self.conn.execute(self._select, (key,)).fetchone()
            if row is None:
                return None
            entry = CachedAnswer(*row[:7], bool(row[7]), *row[8:])
            if not self._fresh(entry, now):
                return None
            self._remember(entry)
        if touch:
            self.touch(key, now)
        return entry

    def touch(self, key: str, now: float | None = None) -> None:
        self.conn.execute(
            "UPDATE response_cache SET hits = hits + 1, last_used_at = ? WHERE key = ?", (now or time.time(), key)
        )

    def _remember(self, entry: CachedAnswer) -> None:
        with self._lock:
            self._hot[entry.key] = entry
            self._hot.move_to_end(entry.key)
            while len(self._hot) > self.hot_entries:
                self._hot.popitem(last=False)

    def put(self, entry: CachedAnswer) -> None:
        """Store a complete answer; a later answer for the same key (regenerate) replaces it."""
        size = len(entry.text.encode("utf-8"))
        self.conn.execute(
            f"INSERT OR REPLACE INTO response_cache ({_COLS}, last_used_at, hits, size_bytes) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,0,?)",
            (entry.key, entry.provider, entry.model, entry.text, entry.input_tokens, entry.output_tokens,
             entry.cost_usd, int(entry.cost_estimated), entry.ttft_ms, entry.total_ms, entry.created_at,
             entry.created_at, size),
        )
        self._remember(entry)

    def forget_hot(self) -> None:
        with self._lock:
            self._hot.clear()
