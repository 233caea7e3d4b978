"""Ollama's embedding models, used only by the Ollama provider: which pulled model embeds, and /api/embed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# Name parts of the embedding models in Ollama's library (its model list has no "kind" field).
EMBED_HINTS = ("embed", "minilm", "bge", "mxbai", "e5", "gte", "arctic")


def is_embedding_model(name: str) -> bool:
    return any(hint in name.lower() for hint in EMBED_HINTS)


def pick(pulled: Sequence[str], preferred: str, canonical: str) -> str | None:
    """`preferred` (in either spelling) if pulled, else the first pulled embedding model."""
    if preferred:
        return next((m for m in pulled if m in (preferred, canonical)), None)
    return next((m for m in pulled if is_embedding_model(m)), None)


async def embed(client: Any, model: str, texts: Sequence[str], keep_alive: str) -> list[list[float]]:
    """POST /api/embed {"model", "input": [...], "truncate": true} -> {"embeddings": [[...], ...]}; ValueError when
    the reply does not hold one vector per text."""
    response = await client.embed(model=model, input=list(texts), truncate=True, keep_alive=keep_alive)
    rows = [list(map(float, row)) for row in response.embeddings or []]
    if len(rows) != len(texts) or any(not row for row in rows):
        raise ValueError(f"{len(rows)} vectors for {len(texts)} texts")
    return rows
