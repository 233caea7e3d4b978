"""Vectors of one embedder in packed matrices: 1-bit sign codes to shortlist, float16 rows to rank exactly.

Rows are L2-normalised, so the dot product is the cosine. A float32 matrix-vector product over 100,000 x 256
rows reads 100 MB and took 12 ms p50 / 32 ms p99 on the 2-core bench machine: memory-bound, most of the lookup
budget. The sign bits (32 bytes a row, 3.2 MB for 100,000) are compared by XOR and popcount in about 1 ms, and
only the `candidates` closest in Hamming distance are ranked by exact cosine from their float16 rows. Memory is
half of a float32 matrix. sqlite-vec could not be used: this Python's sqlite3 cannot load extensions.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


class VectorIndex:
    """Append, drop and search rows by integer id; dropping swaps the last row in, so the matrices stay packed."""

    def __init__(self, dim: int, capacity: int = 1024, candidates: int = 512) -> None:
        self.dim = dim
        self.candidates = candidates
        self._words = (dim + 63) // 64
        capacity = max(capacity, 1)
        self._rows = np.zeros((capacity, dim), dtype=np.float16)
        self._codes = np.zeros((capacity, self._words), dtype=np.uint64)
        self._ids = np.zeros(capacity, dtype=np.int64)
        self._row: dict[int, int] = {}
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def __contains__(self, entry_id: int) -> bool:
        return entry_id in self._row

    def _code(self, vectors: np.ndarray) -> np.ndarray:
        bits = np.packbits(vectors > 0, axis=1)
        padded = np.zeros((vectors.shape[0], self._words * 8), dtype=np.uint8)
        padded[:, : bits.shape[1]] = bits
        return padded.view(np.uint64)

    def _grow(self, needed: int) -> None:
        capacity = self._rows.shape[0]
        if needed <= capacity:
            return
        while capacity < needed:
            capacity *= 2
        for name in ("_rows", "_codes", "_ids"):
            old = getattr(self, name)
            new = np.zeros((capacity, *old.shape[1:]), dtype=old.dtype)
            new[: self._size] = old[: self._size]
            setattr(self, name, new)

    def add(self, entry_ids: Iterable[int], vectors: np.ndarray) -> None:
        ids = list(entry_ids)
        vectors = np.asarray(vectors, dtype=np.float32).reshape(len(ids), self.dim)
        for entry_id in ids:
            if entry_id in self._row:
                self.remove(entry_id)
        self._grow(self._size + len(ids))
        start, stop = self._size, self._size + len(ids)
        self._rows[start:stop] = vectors
        self._codes[start:stop] = self._code(vectors)
        self._ids[start:stop] = ids
        for offset, entry_id in enumerate(ids):
            self._row[entry_id] = start + offset
        self._size = stop

    def remove(self, entry_id: int) -> bool:
        row = self._row.pop(entry_id, None)
        if row is None:
            return False
        last = self._size - 1
        if row != last:
            moved = int(self._ids[last])
            self._rows[row] = self._rows[last]
            self._codes[row] = self._codes[last]
            self._ids[row] = moved
            self._row[moved] = row
        self._size = last
        return True

    def vector(self, entry_id: int) -> np.ndarray:
        row: np.ndarray = self._rows[self._row[entry_id]].astype(np.float32)
        return row

    def shortlist(self, query: np.ndarray) -> np.ndarray:
        """Row numbers worth an exact look: all of them, or the `candidates` nearest by Hamming distance."""
        if self._size <= self.candidates:
            return np.arange(self._size)
        code = self._code(np.asarray(query, dtype=np.float32).reshape(1, self.dim))[0]
        distance = np.bitwise_count(self._codes[: self._size] ^ code).sum(axis=1, dtype=np.uint16)
        return np.argpartition(distance, self.candidates)[: self.candidates]

    def search(self, query: np.ndarray, k: int = 8) -> list[tuple[int, float]]:
        """The k nearest rows as (entry id, cosine), best first."""
        if self._size == 0 or k <= 0:
            return []
        query = np.asarray(query, dtype=np.float32).reshape(self.dim)
        rows = self.shortlist(query)
        scores = self._rows[rows].astype(np.float32) @ query
        k = min(k, len(rows))
        top = np.argpartition(scores, -k)[-k:] if k < len(rows) else np.arange(len(rows))
        top = top[np.argsort(-scores[top])]
        return [(int(self._ids[rows[i]]), float(scores[i])) for i in top]

    def exact(self, query: np.ndarray, k: int = 8) -> list[tuple[int, float]]:
        """The same search over every row (what the shortlist is measured against)."""
        scores = self._rows[: self._size].astype(np.float32) @ np.asarray(query, dtype=np.float32).reshape(self.dim)
        top = np.argsort(-scores)[:k]
        return [(int(self._ids[i]), float(scores[i])) for i in top]


def pack(vector: np.ndarray) -> bytes:
    """A vector as stored in SQLite: little-endian float16, half the size of float32 and precise to ~1e-3."""
    return np.asarray(vector, dtype="<f2").tobytes()


def unpack(blob: bytes, dim: int | None = None) -> np.ndarray:
    vector = np.frombuffer(blob, dtype="<f2").astype(np.float32)
    if dim is not None and vector.shape[0] != dim:
        raise ValueError(f"a stored vector has {vector.shape[0]} dimensions, expected {dim}")
    return vector
