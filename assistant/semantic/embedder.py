"""Where vectors come from when no local provider embeds: WordLlama's static embeddings, read from its wheel.

Nothing here downloads anything: WordLlama's weights and tokenizer are read from the installed package (its own
loader would fetch the tokenizer from Hugging Face, because 0.4.0 looks for it under the wrong folder name).
A local provider's embedding model (Ollama's /api/embed) is wrapped by the engine (engine/semantic_index.py).
Importing this module loads no model.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np


class EmbedderUnavailable(Exception):
    """The model cannot embed here (package missing, weights unreadable, server down); says which and why."""


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 rows; `name` says which model, since vectors of two models never mix."""

    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


def normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim == 1:
        vectors = vectors[None, :]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0  # an empty prompt embeds to zeros; it must not become NaN
    out: np.ndarray = vectors / norms
    return out


class WordLlamaEmbedder:
    """WordLlama "l2_supercat" (MIT): static token embeddings averaged, 256 dims, about 20 µs a prompt on one core."""

    CONFIG = "l2_supercat"

    def __init__(self, dim: int = 256) -> None:
        try:
            import wordllama
            from wordllama import WordLlama
        except ImportError as exc:
            raise EmbedderUnavailable("the wordllama package is not installed; run `pip install wordllama`") from exc
        root = Path(wordllama.__file__).parent
        try:
            # cache_dir = the package folder: weights/ and tokenizers/ are found there, so nothing is fetched.
            self._model: Any = WordLlama.load(config=self.CONFIG, dim=256, trunc_dim=None if dim == 256 else dim,
                                              cache_dir=root, disable_download=True)
        except (FileNotFoundError, ValueError) as exc:
            raise EmbedderUnavailable(f"wordllama's bundled weights could not be read: {exc}") from exc
        self.dim = dim
        self.name = f"wordllama:{self.CONFIG}-{dim}"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return normalise(self._model.embed(list(texts), norm=False, return_np=True))
