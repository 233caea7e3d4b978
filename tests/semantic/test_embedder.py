"""Embedding models: WordLlama from its wheel with no network and nothing written; Ollama's /api/embed and its
embedding-model discovery on a loopback fake (documented replies)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.core.errors import ModelNotFound
from assistant.semantic.embedder import WordLlamaEmbedder
from tests.fakes.server import FakeServer, Reply, Route, Seen
from tests.helpers import real_provider


def _documented(section: str, fixtures: Path) -> list[dict[str, object]]:
    blocks = json.loads((fixtures / "ollama" / "ollama-docs" / "api_md_json_examples.json").read_text())
    return [o for b in blocks if b["section"] == section for o in b["objects"]]


def test_wordllama_embeds_normalised_rows(embedder: WordLlamaEmbedder) -> None:
    v = embedder.embed(["How do I reverse a list in Python?", "What's the way to reverse a Python list?", ""])
    assert v.shape == (3, 256) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v[:2], axis=1), 1.0, atol=1e-5)
    assert float(v[0] @ v[1]) > 0.7
    assert embedder.name == "wordllama:l2_supercat-256"


def test_wordllama_loads_offline_and_writes_nothing(tmp_path: Path) -> None:
    # A fresh interpreter with every socket refused and HOME empty: the weights and tokenizer come from the wheel.
    code = ("import socket\n"
            "def refuse(*a, **k): raise OSError('no network')\n"
            "socket.socket.connect = refuse\n"
            "from assistant.semantic.embedder import WordLlamaEmbedder\n"
            "print(WordLlamaEmbedder().embed(['hello']).shape)\n")
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "0", "PYTHONPATH": str(Path.cwd())}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120, check=False)
    assert out.returncode == 0, out.stderr[-500:]
    assert out.stdout.strip() == "(1, 256)"
    assert list(tmp_path.iterdir()) == []


async def test_ollama_embeds_with_the_documented_wire_format(fixtures_dir: Path) -> None:
    documented = _documented("Generate Embeddings > Examples > Response", fixtures_dir)[1]  # two inputs
    bodies: list[object] = []

    def embed(seen: Seen) -> Reply:
        bodies.append(seen.json())
        return Reply.json(documented)

    with FakeServer({("POST", "/api/embed"): embed}) as server:
        rows = await real_provider("ollama", host=server.url).embed("all-minilm", ["Why is the sky blue?", "Why?"])
    assert bodies == [{"model": "all-minilm", "input": ["Why is the sky blue?", "Why?"], "truncate": True,
                       "keep_alive": "5m"}]
    assert rows == documented["embeddings"]  # type: ignore[index]


async def test_ollama_names_its_embedding_model_and_never_chats_with_it(fixtures_dir: Path) -> None:
    tags = _documented("List Local Models > Examples > Response", fixtures_dir)[0]
    chat_only = list(tags["models"])  # type: ignore[call-overload]
    nomic = {"name": "nomic-embed-text:latest", "model": "nomic-embed-text:latest",
             "details": {"format": "gguf", "family": "nomic-bert", "families": ["nomic-bert"]}}
    with FakeServer({("GET", "/api/tags"): Reply.json({"models": [nomic, *chat_only]})}) as server:
        provider = real_provider("ollama", host=server.url, model="not-pulled")
        assert await provider.embedding_model() == "nomic-embed-text:latest"
        assert await provider.embedding_model("nomic-embed-text") == "nomic-embed-text:latest"
        assert await provider.embedding_model("mxbai-embed-large") is None  # asked for one it does not have
        assert provider.default_model() == chat_only[0]["model"]  # not the embedding model listed first
    with FakeServer({("GET", "/api/tags"): Reply.json({"models": chat_only})}) as server:
        assert await real_provider("ollama", host=server.url).embedding_model() is None
    assert await real_provider("ollama", host="http://127.0.0.1:9").embedding_model() is None  # down


async def test_ollama_embed_errors_are_provider_errors() -> None:
    routes: dict[tuple[str, str], Route | Reply | list[Reply]] = {
        ("POST", "/api/embed"): Reply.json({"error": "model \"x\" not found, try pulling it first"}, 404)}
    with FakeServer(routes) as server, pytest.raises(ModelNotFound, match="models pull x"):
        await real_provider("ollama", host=server.url).embed("x", ["a"])


def test_importing_the_package_loads_no_model() -> None:
    code = ("import sys, assistant.semantic.decide, assistant.semantic.evaluate, assistant.engine.semantic_tier, "
            "assistant.bench.semantic_bench; print(sorted(m for m in ('wordllama', 'tokenizers', 'llama_cpp', "
            "'textual') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"
