"""The semantic tier's rows in the app's SQLite file: questions, their context, packed vectors, forgotten pairs."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class SemanticRow:
    """One stored question. Vectors are packed float16 bytes of the embedder named in `embedder`."""

    id: int
    cache_key: str  # the exact cache's key of the answer to reuse
    model: str
    settings: str  # the caller's fingerprint of everything that must be equal (temperature, system prompt...)
    context: str  # fingerprint of the context the question was asked in
    prompt: str
    context_user: str
    context_assistant: str
    system: str
    embedder: str
    vector: bytes
    user_vector: bytes | None
    assistant_vector: bytes | None
    threshold: float | None
    created_at: float
    hits: int


@dataclass(frozen=True)
class NewRow:
    """What `put` stores; the store adds id, time and counters."""

    cache_key: str
    model: str
    settings: str
    context: str
    prompt: str
    context_user: str
    context_assistant: str
    system: str
    embedder: str
    vector: bytes
    user_vector: bytes | None
    assistant_vector: bytes | None


_COLUMNS = ("id, cache_key, model, settings, context, prompt, context_user, context_assistant, system, embedder, "
            "vector, user_vector, assistant_vector, threshold, created_at, hits")


class SemanticStore:
    """Plain sqlite3 on the connection the app opened (autocommit; each write is one statement or one transaction)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def put(self, row: NewRow, now: float | None = None) -> int:
        """Store (or replace, for the same answer and embedder) a question; returns its id."""
        cur = self.conn.execute(
            """INSERT INTO semantic_cache (cache_key, model, settings, context, prompt, context_user,
                   context_assistant, system, embedder, vector, user_vector, assistant_vector, created_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (cache_key, embedder) DO UPDATE SET model = excluded.model,
                   settings = excluded.settings, context = excluded.context, prompt = excluded.prompt,
                   context_user = excluded.context_user, context_assistant = excluded.context_assistant,
                   system = excluded.system, vector = excluded.vector, user_vector = excluded.user_vector,
                   assistant_vector = excluded.assistant_vector, created_at = excluded.created_at
               RETURNING id""",
            (row.cache_key, row.model, row.settings, row.context, row.prompt, row.context_user,
             row.context_assistant, row.system, row.embedder, row.vector, row.user_vector, row.assistant_vector,
             time.time() if now is None else now),
        )
        entry_id = int(cur.fetchone()[0])
        cur.close()
        return entry_id

    def rows(self, embedder: str) -> Iterator[SemanticRow]:
        """Every row of one embedder, oldest first (the order the index is rebuilt in)."""
        cur = self.conn.execute(f"SELECT {_COLUMNS} FROM semantic_cache WHERE embedder = ? ORDER BY id", (embedder,))
        try:
            for r in cur:
                yield SemanticRow(*r)
        finally:
            cur.close()

    def vectors(self, embedder: str) -> dict[tuple[str, str], tuple[list[int], bytes, dict[int, float]]]:
        """Per (model, settings): entry ids, their packed vectors joined in id order, and raised thresholds."""
        out: dict[tuple[str, str], tuple[list[int], list[bytes], dict[int, float]]] = {}
        cur = self.conn.execute("SELECT id, model, settings, vector, threshold FROM semantic_cache WHERE embedder = ? "
                                "ORDER BY id", (embedder,))
        try:
            for entry_id, model, settings, vector, threshold in cur:
                ids, blobs, raised = out.setdefault((model, settings), ([], [], {}))
                ids.append(entry_id)
                blobs.append(vector)
                if threshold is not None:
                    raised[entry_id] = threshold
        finally:
            cur.close()
        return {group: (ids, b"".join(blobs), raised) for group, (ids, blobs, raised) in out.items()}

    def get(self, entry_id: int) -> SemanticRow | None:
        r = self.conn.execute(f"SELECT {_COLUMNS} FROM semantic_cache WHERE id = ?", (entry_id,)).fetchone()
        return SemanticRow(*r) if r else None

    def forgotten(self, embedder: str) -> dict[int, set[str]]:
        out: dict[int, set[str]] = {}
        for entry_id, pair in self.conn.execute(
                "SELECT f.entry_id, f.pair FROM semantic_forgotten f JOIN semantic_cache c ON c.id = f.entry_id "
                "WHERE c.embedder = ?", (embedder,)).fetchall():
            out.setdefault(int(entry_id), set()).add(str(pair))
        return out

    def record_hit(self, entry_id: int, now: float | None = None) -> None:
        self.conn.execute("UPDATE semantic_cache SET hits = hits + 1, last_hit_at = ? WHERE id = ?",
                          (time.time() if now is None else now, entry_id))

    def forget(self, entry_id: int, pair: str, similarity: float, threshold: float | None,
               now: float | None = None) -> bool:
        """Remember that `pair` must never match `entry_id` again, and store the entry's raised threshold."""
        with _transaction(self.conn):
            if self.conn.execute("SELECT 1 FROM semantic_cache WHERE id = ?", (entry_id,)).fetchone() is None:
                return False
            self.conn.execute(
                "INSERT OR REPLACE INTO semantic_forgotten (entry_id, pair, similarity, created_at) VALUES (?, ?, ?, ?)",
                (entry_id, pair, similarity, time.time() if now is None else now))
            if threshold is not None:
                self.conn.execute("UPDATE semantic_cache SET threshold = max(coalesce(threshold, 0), ?) WHERE id = ?",
                                  (threshold, entry_id))
        return True

    def delete(self, entry_ids: Iterable[int]) -> int:
        ids = [(int(i),) for i in entry_ids]
        with _transaction(self.conn):
            self.conn.executemany("DELETE FROM semantic_forgotten WHERE entry_id = ?", ids)
            before = self.conn.total_changes
            self.conn.executemany("DELETE FROM semantic_cache WHERE id = ?", ids)
            return self.conn.total_changes - before

    def delete_for_keys(self, cache_keys: Iterable[str]) -> int:
        """Drop the rows pointing at exact-cache answers that are gone (`cache clear` clears both tiers)."""
        keys = [(k,) for k in cache_keys]
        ids = [r[0] for k in keys for r in self.conn.execute("SELECT id FROM semantic_cache WHERE cache_key = ?", k)]
        return self.delete(ids)

    def clear(self) -> int:
        with _transaction(self.conn):
            self.conn.execute("DELETE FROM semantic_forgotten")
            return self.conn.execute("DELETE FROM semantic_cache").rowcount

    def count(self, embedder: str | None = None) -> int:
        if embedder is None:
            return int(self.conn.execute("SELECT count(*) FROM semantic_cache").fetchone()[0])
        return int(self.conn.execute("SELECT count(*) FROM semantic_cache WHERE embedder = ?", (embedder,)).fetchone()[0])

    def counts_by_embedder(self) -> dict[str, int]:
        return {str(e): int(n) for e, n in
                self.conn.execute("SELECT embedder, count(*) FROM semantic_cache GROUP BY embedder").fetchall()}


class _transaction:
    """BEGIN IMMEDIATE ... COMMIT on an autocommit connection (rolled back on any error)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, *_: object) -> None:
        self.conn.execute("ROLLBACK" if kind is not None else "COMMIT")
