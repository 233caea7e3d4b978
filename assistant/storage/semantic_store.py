"""The semantic tier's rows in the app's SQLite file: questions, their context, vectors per model, forgotten pairs."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from assistant.storage.boundary import guarded
from assistant.storage.tx import transaction


@dataclass(frozen=True)
class Question:
    """A question as stored: what it asked and the parts of its conversation that matter (semantic/context.py)."""

    cache_key: str  # the exact cache's key of the answer to reuse
    model: str
    settings: str  # the caller's fingerprint of what must be equal besides the model (temperature, length...)
    prompt: str
    context_user: str
    context_assistant: str
    system: str


@dataclass(frozen=True)
class Vectors:
    """Packed float16 vectors of one embedding model: the question, and the context parts it has."""

    question: bytes
    user: bytes | None = None
    assistant: bytes | None = None


@dataclass(frozen=True)
class Entry:
    id: int
    question: Question
    threshold: float | None  # raised when a served answer was marked wrong
    created_at: float
    hits: int
    vectors: Vectors | None  # of the embedder asked for; None until it has embedded this question


@dataclass(frozen=True)
class Packed:
    """Many entries' question vectors of one (model, settings) group, joined in id order, for a bulk index load."""

    ids: list[int]
    vectors: bytes
    thresholds: dict[int, float]


_ENTRY = ("c.id, c.cache_key, c.model, c.settings, c.prompt, c.context_user, c.context_assistant, c.system, "
          "c.threshold, c.created_at, c.hits, v.vector, v.user_vector, v.assistant_vector")
_JOIN = "FROM semantic_cache c LEFT JOIN semantic_vectors v ON v.embedder = ? AND v.entry_id = c.id"


def _entry(r: tuple[Any, ...]) -> Entry:
    q = Question(*(str(x) for x in r[1:8]))
    vectors = Vectors(r[11], r[12], r[13]) if r[11] is not None else None
    return Entry(int(r[0]), q, r[8], float(r[9]), int(r[10]), vectors)


@guarded
class SemanticStore:
    """Plain sqlite3 on the connection the app opened (autocommit; a write of several statements is a transaction)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def put(self, question: Question, embedder: str | None = None, vectors: Vectors | None = None,
            now: float | None = None) -> int:
        """Store a question (once per answer: the same answer again keeps its row) and, if given, its vectors."""
        with transaction(self.conn):
            entry_id = int(self.conn.execute(
                """INSERT INTO semantic_cache (cache_key, model, settings, prompt, context_user, context_assistant,
                       system, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (cache_key) DO UPDATE SET created_at = excluded.created_at RETURNING id""",
                (question.cache_key, question.model, question.settings, question.prompt, question.context_user,
                 question.context_assistant, question.system, time.time() if now is None else now),
            ).fetchall()[0][0])
            if embedder is not None and vectors is not None:
                self._put_vectors(embedder, [(entry_id, vectors)])
        return entry_id

    def put_vectors(self, embedder: str, rows: list[tuple[int, Vectors]]) -> None:
        with transaction(self.conn):
            self._put_vectors(embedder, rows)

    def _put_vectors(self, embedder: str, rows: list[tuple[int, Vectors]]) -> None:
        self.conn.executemany(
            "INSERT OR REPLACE INTO semantic_vectors (embedder, entry_id, vector, user_vector, assistant_vector) "
            "SELECT ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM semantic_cache WHERE id = ?)",
            [(embedder, i, v.question, v.user, v.assistant, i) for i, v in rows])

    def packed(self, embedder: str) -> tuple[dict[tuple[str, str], Packed], int]:
        """Every embedded question of `embedder`, per (model, settings); and the highest entry id seen."""
        out: dict[tuple[str, str], tuple[list[int], list[bytes], dict[int, float]]] = {}
        rows = self.conn.execute(
            "SELECT c.id, c.model, c.settings, v.vector, c.threshold FROM semantic_vectors v "
            "JOIN semantic_cache c ON c.id = v.entry_id WHERE v.embedder = ? ORDER BY v.entry_id", (embedder,)
        ).fetchall()
        for entry_id, model, settings, vector, threshold in rows:
            ids, blobs, raised = out.setdefault((model, settings), ([], [], {}))
            ids.append(entry_id)
            blobs.append(vector)
            if threshold is not None:
                raised[entry_id] = threshold
        top = self.conn.execute("SELECT coalesce(max(id), 0) FROM semantic_cache").fetchone()[0]
        return {g: Packed(ids, b"".join(blobs), raised) for g, (ids, blobs, raised) in out.items()}, int(top)

    def unembedded(self, embedder: str, limit: int) -> list[Entry]:
        """Questions `embedder` has no vectors for yet (written by a process that did not embed, or another model)."""
        rows = self.conn.execute(
            f"SELECT {_ENTRY} {_JOIN} WHERE v.entry_id IS NULL ORDER BY c.id DESC LIMIT ?", (embedder, limit)
        ).fetchall()
        return [_entry(r) for r in rows]

    def since(self, embedder: str, after: int) -> list[Entry]:
        """Entries added after id `after` (by this process or another), with `embedder`'s vectors if it has them."""
        rows = self.conn.execute(f"SELECT {_ENTRY} {_JOIN} WHERE c.id > ? ORDER BY c.id", (embedder, after)).fetchall()
        return [_entry(r) for r in rows]

    def get(self, entry_id: int, embedder: str) -> Entry | None:
        rows = self.conn.execute(f"SELECT {_ENTRY} {_JOIN} WHERE c.id = ?", (embedder, entry_id)).fetchall()
        return _entry(rows[0]) if rows else None

    def forgotten(self) -> dict[int, set[str]]:
        out: dict[int, set[str]] = {}
        for entry_id, pair in self.conn.execute("SELECT entry_id, pair FROM semantic_forgotten").fetchall():
            out.setdefault(int(entry_id), set()).add(str(pair))
        return out

    def forget(self, entry_id: int, pair: str, similarity: float, threshold: float | None,
               now: float | None = None) -> bool:
        """Remember that `pair` must never match `entry_id` again, and store the entry's raised threshold."""
        with transaction(self.conn):
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
        with transaction(self.conn):
            before = self.conn.total_changes
            self.conn.executemany("DELETE FROM semantic_cache WHERE id = ?", ids)
            removed = self.conn.total_changes - before
            self.conn.executemany("DELETE FROM semantic_forgotten WHERE entry_id = ?", ids)
            self.conn.executemany("DELETE FROM semantic_vectors WHERE entry_id = ?", ids)
        return removed

    def delete_orphans(self) -> int:
        """Drop the questions whose answers left the exact cache (cleared, pruned or evicted)."""
        ids = [r[0] for r in self.conn.execute(
            "SELECT c.id FROM semantic_cache c WHERE NOT EXISTS (SELECT 1 FROM response_cache r WHERE r.key = c.cache_key)"
        ).fetchall()]
        return self.delete(ids) if ids else 0

    def clear(self) -> int:
        with transaction(self.conn):
            self.conn.execute("DELETE FROM semantic_forgotten")
            self.conn.execute("DELETE FROM semantic_vectors")
            return int(self.conn.execute("DELETE FROM semantic_cache").rowcount)

    def count(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM semantic_cache").fetchone()[0])

    def counts_by_embedder(self) -> dict[str, int]:
        return {str(e): int(n) for e, n in
                self.conn.execute("SELECT embedder, count(*) FROM semantic_vectors GROUP BY embedder").fetchall()}

    def bump(self, name: str, by: int = 1) -> None:
        self.conn.execute("INSERT INTO semantic_counts (name, n) VALUES (?, ?) "
                          "ON CONFLICT (name) DO UPDATE SET n = n + excluded.n", (name, by))

    def counters(self) -> dict[str, int]:
        out = {str(k): int(n) for k, n in self.conn.execute("SELECT name, n FROM semantic_counts").fetchall()}
        out["forgotten"] = int(self.conn.execute("SELECT count(*) FROM semantic_forgotten").fetchone()[0])
        return out

