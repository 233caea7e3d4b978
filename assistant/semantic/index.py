"""Vectors of one embedder in a packed float32 matrix; top-k cosine is one matrix-vector product.

Rows are L2-normalised, so the dot product is the cosine. float32 in memory because numpy's float16 product has
no BLAS kernel (about 10x slower, measured in assistant/bench/semantic_bench.py); float16 is the on-disk form.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np


class VectorIndex:
    """Append, drop and search rows by integer id; dropping swaps the last row in, so the matrix stays packed."""

    def __init__(self, dim: int, capacity: int = 1024) -> None:
        self.dim = dim
        self._matrix = np.zeros((max(capacity, 1), dim), dtype=np.float32)
        self._ids = np.zeros(max(capacity, 1), dtype=np.int64)
        self._row: dict[int, int] = {}
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def __contains__(self, entry_id: int) -> bool:
        return entry_id in self._row

    def _grow(self, needed: int) -> None:
        capacity = self._matrix.shape[0]
        if needed <= capacity:
            return
        while capacity < needed:
            capacity *= 2
        matrix = np.zeros((capacity, self.dim), dtype=np.float32)
        matrix[: self._size] = self._matrix[: self._size]
        ids = np.zeros(capacity, dtype=np.int64)
        ids[: self._size] = self._ids[: self._size]
        self._matrix, self._ids = matrix, ids

    def add(self, entry_ids: Iterable[int], vectors: np.ndarray) -> None:
        ids = list(entry_ids)
        vectors = np.asarray(vectors, dtype=np.float32).reshape(len(ids), self.dim)
        for entry_id in ids:
            if entry_id in self._row:
                self.remove(entry_id)
        self._grow(self._size + len(ids))
        start = self._size
        self._matrix[start: start + len(ids)] = vectors
        self._ids[start: start + len(ids)] = ids
        for offset, entry_id in enumerate(ids):
            self._row[entry_id] = start + offset
        self._size += len(ids)

    def remove(self, entry_id: int) -> bool:
        row = self._row.pop(entry_id, None)
        if row is None:
            return False
        last = self._size - 1
        if row != last:
            moved = int(self._ids[last])
            self._matrix[row] = self._matrix[last]
            self._ids[row] = moved
            self._row[moved] = row
        self._size = last
        return True

    def vector(self, entry_id: int) -> np.ndarray:
        return self._matrix[self._row[entry_id]]

    def search(self, query: np.ndarray, k: int = 8) -> list[tuple[int, float]]:
        """The k nearest rows as (entry id, cosine), best first."""
        if self._size == 0 or k <= 0:
            return []
        scores = self._matrix[: self._size] @ np.asarray(query, dtype=np.float32).reshape(self.dim)
        k = min(k, self._size)
        top = np.argpartition(scores, -k)[-k:] if k < self._size else np.arange(self._size)
        top = top[np.argsort(-scores[top])]
        return [(int(self._ids[i]), float(scores[i])) for i in top]


def pack(vector: np.ndarray) -> bytes:
    """A vector as stored in SQLite: little-endian float16, half the size of float32 and precise to ~1e-3."""
    return np.asarray(vector, dtype="<f2").tobytes()


def unpack(blob: bytes, dim: int | None = None) -> np.ndarray:
    vector = np.frombuffer(blob, dtype="<f2").astype(np.float32)
    if dim is not None and vector.shape[0] != dim:
        raise ValueError(f"a stored vector has {vector.shape[0]} dimensions, expected {dim}")
    return vector
