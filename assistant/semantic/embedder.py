"""Where vectors come from: WordLlama's static embeddings from its wheel, or Ollama's /api/embed when it has a model.

Nothing here downloads anything: WordLlama's weights and tokenizer are read from the installed package (its own
loader would fetch the tokenizer from Hugging Face, because 0.4.0 looks for it under the wrong folder name), and
Ollama is asked only on the host it was given. Importing this module loads no model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    import httpx


class EmbedderUnavailable(Exception):
    """The backend cannot embed here (package missing, server down, no embedding model); say which and why."""


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
    return vectors / norms


class WordLlamaEmbedder:
    """WordLlama "l2_supercat" (MIT): static token embeddings averaged, 256 dims, about 20 µs a prompt on one core."""

    CONFIG = "l2_supercat"

    def __init__(self, dim: int = 256) -> None:
        try:
            import wordllama  # type: ignore[import-untyped]
            from wordllama import WordLlama  # type: ignore[import-untyped]
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


@dataclass(frozen=True)
class OllamaModel:
    name: str
    family: str


# Families and name parts of the embedding models in Ollama's library (its /api/tags has no "kind" field).
_EMBED_HINTS = ("embed", "minilm", "bge", "mxbai", "e5", "gte", "nomic-bert", "bert", "arctic", "granite-embedding")


def pick_ollama_model(tags: dict[str, Any]) -> OllamaModel | None:
    """The first model in a /api/tags reply that looks like an embedding model, or None."""
    for entry in tags.get("models") or []:
        name = str(entry.get("name") or entry.get("model") or "")
        details = entry.get("details") or {}
        family = str(details.get("family") or "")
        families = [str(f) for f in details.get("families") or []]
        haystack = " ".join([name.lower(), family.lower(), *(f.lower() for f in families)])
        if name and any(h in haystack for h in _EMBED_HINTS):
            return OllamaModel(name, family)
    return None


class OllamaEmbedder:
    """Ollama's POST /api/embed (`{"model", "input": [...]}` -> `{"embeddings": [[...], ...]}`) on a given host."""

    def __init__(self, client: httpx.Client, model: str, dim: int | None = None) -> None:
        self._client = client
        self.model = model
        self.name = f"ollama:{model}"
        self.dim = dim if dim is not None else self.embed(["dimension probe"]).shape[1]

    @classmethod
    def discover(cls, client: httpx.Client, model: str | None = None) -> OllamaEmbedder:
        """Use `model`, or the first embedding model Ollama lists; EmbedderUnavailable when there is none."""
        import httpx

        if model is None:
            try:
                reply = client.get("/api/tags")
                reply.raise_for_status()
                found = pick_ollama_model(reply.json())
            except (httpx.HTTPError, ValueError) as exc:
                raise EmbedderUnavailable(f"Ollama did not list its models: {type(exc).__name__}") from exc
            if found is None:
                raise EmbedderUnavailable("Ollama has no embedding model; `ollama pull nomic-embed-text` adds one")
            model = found.name
        return cls(client, model)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        import httpx

        if not texts:
            return np.zeros((0, getattr(self, "dim", 0)), dtype=np.float32)
        try:
            reply = self._client.post("/api/embed", json={"model": self.model, "input": list(texts), "truncate": True})
        except httpx.HTTPError as exc:
            raise EmbedderUnavailable(f"Ollama's embed endpoint failed: {type(exc).__name__}") from exc
        if reply.status_code != 200:
            raise EmbedderUnavailable(f"Ollama's embed endpoint answered HTTP {reply.status_code} for {self.model}")
        try:
            rows = reply.json()["embeddings"]
            vectors = np.asarray(rows, dtype=np.float32)
        except (ValueError, KeyError, TypeError) as exc:
            raise EmbedderUnavailable("Ollama's embed reply had no 'embeddings' list") from exc
        if vectors.ndim != 2 or vectors.shape[0] != len(texts) or not all(math.isfinite(float(v)) for v in vectors.flat[:8]):
            raise EmbedderUnavailable(f"Ollama returned {vectors.shape} vectors for {len(texts)} texts")
        return normalise(vectors)


def default_embedder(ollama: httpx.Client | None = None, ollama_model: str | None = None) -> Embedder:
    """Ollama's embedding model when one answers on `ollama`, otherwise WordLlama from its wheel."""
    if ollama is not None:
        try:
            return OllamaEmbedder.discover(ollama, ollama_model)
        except EmbedderUnavailable:
            pass
    return WordLlamaEmbedder()
