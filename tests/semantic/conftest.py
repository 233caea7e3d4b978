"""The real WordLlama model from its wheel, loaded once for the semantic tests; the labelled pairs."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.semantic.embedder import WordLlamaEmbedder
from assistant.semantic.evaluate import Pair, load_pairs

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def embedder() -> WordLlamaEmbedder:
    return WordLlamaEmbedder()


@pytest.fixture(scope="session")
def single_pairs() -> list[Pair]:
    return load_pairs(DATA / "single.jsonl")


@pytest.fixture(scope="session")
def conversation_pairs() -> list[Pair]:
    return load_pairs(DATA / "conversations.jsonl")
