"""The packed index: rows added, replaced and dropped; the Hamming shortlist finds what an exact scan finds."""

from __future__ import annotations

import numpy as np

from assistant.semantic.index import VectorIndex, pack, unpack


def _unit(rows: int, dim: int, seed: int) -> np.ndarray:
    m = np.random.default_rng(seed).standard_normal((rows, dim)).astype(np.float32)
    return m / np.linalg.norm(m, axis=1, keepdims=True)


def test_add_replace_remove_keep_rows_packed() -> None:
    m = _unit(10, 64, 1)
    index = VectorIndex(64, capacity=2)
    index.add(range(10), m)
    assert len(index) == 10 and index.search(m[3], 1)[0][0] == 3
    index.remove(3)
    assert 3 not in index and len(index) == 9
    assert all(hit[0] != 3 for hit in index.search(m[3], 9))
    index.add([9], m[0:1])  # replacing an id moves its vector
    assert index.search(m[0], 2)[1][0] in (0, 9) and len(index) == 9
    assert np.allclose(index.vector(7), m[7], atol=1e-3)


def test_shortlist_agrees_with_an_exact_scan_on_near_neighbours() -> None:
    base = _unit(20_000, 256, 2)
    index = VectorIndex(256, candidates=256)
    index.add(range(len(base)), base)
    noise = _unit(100, 256, 3)
    queries = base[:100] * 0.8 + noise * 0.6  # neighbours at cosine ~0.8, the kind a cache hit has
    agree = sum(index.search(q, 1)[0][0] == index.exact(q, 1)[0][0] for q in queries)
    assert agree >= 99


def test_vectors_round_trip_as_float16() -> None:
    v = _unit(1, 256, 4)[0]
    blob = pack(v)
    assert len(blob) == 512
    assert np.allclose(unpack(blob, 256), v, atol=1e-3)
