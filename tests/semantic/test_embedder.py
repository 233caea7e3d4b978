"""Embedders: WordLlama from its wheel with no network and nothing written; Ollama's /api/embed on a loopback fake."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import numpy as np
import pytest

from assistant.semantic.embedder import (
    EmbedderUnavailable,
    OllamaEmbedder,
    WordLlamaEmbedder,
    default_embedder,
)
from tests.fakes.server import FakeServer, Reply, Route, Seen


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


def test_ollama_embed_wire_format(fixtures_dir: Path) -> None:
    documented = _documented("Generate Embeddings > Examples > Response", fixtures_dir)[1]  # two inputs
    bodies: list[object] = []

    def embed(seen: Seen) -> Reply:
        bodies.append(seen.json())
        return Reply.json(documented)

    with FakeServer({("POST", "/api/embed"): embed}) as server, httpx.Client(base_url=server.url) as client:
        e = OllamaEmbedder(client, "all-minilm", dim=10)
        v = e.embed(["Why is the sky blue?", "Why is the grass green?"])
    assert bodies == [{"model": "all-minilm", "input": ["Why is the sky blue?", "Why is the grass green?"], "truncate": True}]
    assert v.shape == (2, 10) and np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    raw = np.asarray(documented["embeddings"], dtype=np.float32)  # type: ignore[index]
    assert np.allclose(v[0], raw[0] / np.linalg.norm(raw[0]), atol=1e-6)
    assert e.name == "ollama:all-minilm"


def test_ollama_discovers_an_embedding_model_from_tags(fixtures_dir: Path) -> None:
    tags = _documented("List Local Models > Examples > Response", fixtures_dir)[0]
    models = list(tags["models"]) + [{"name": "nomic-embed-text:latest", "model": "nomic-embed-text:latest",  # type: ignore[call-overload]
                                      "details": {"format": "gguf", "family": "nomic-bert", "families": ["nomic-bert"]}}]
    reply = _documented("Generate Embeddings > Examples > Response", fixtures_dir)[0]
    routes: dict[tuple[str, str], Route | Reply | list[Reply]] = {
        ("GET", "/api/tags"): Reply.json({"models": models}), ("POST", "/api/embed"): Reply.json(reply)}
    with FakeServer(routes) as server, httpx.Client(base_url=server.url) as client:
        e = default_embedder(client)
        assert isinstance(e, OllamaEmbedder) and e.model == "nomic-embed-text:latest" and e.dim == 10


def test_ollama_without_an_embedding_model_falls_back_to_wordllama(fixtures_dir: Path) -> None:
    tags = _documented("List Local Models > Examples > Response", fixtures_dir)[0]  # chat models only
    with FakeServer({("GET", "/api/tags"): Reply.json(tags)}) as server, httpx.Client(base_url=server.url) as client:
        with pytest.raises(EmbedderUnavailable, match="no embedding model"):
            OllamaEmbedder.discover(client)
        assert isinstance(default_embedder(client), WordLlamaEmbedder)


def test_ollama_errors_say_what_failed() -> None:
    routes: dict[tuple[str, str], Route | Reply | list[Reply]] = {
        ("POST", "/api/embed"): Reply.json({"error": "model \"x\" not found, try pulling it first"}, 404)}
    with FakeServer(routes) as server, httpx.Client(base_url=server.url) as client, \
            pytest.raises(EmbedderUnavailable, match="HTTP 404"):
        OllamaEmbedder(client, "x", dim=4).embed(["a"])
    with httpx.Client(base_url="http://127.0.0.1:9", timeout=2) as client, \
            pytest.raises(EmbedderUnavailable, match="failed"):
        OllamaEmbedder(client, "x", dim=4).embed(["a"])


def test_importing_the_package_loads_no_model() -> None:
    code = ("import sys, assistant.semantic, assistant.semantic.cache, assistant.semantic.evaluate, "
            "assistant.bench.semantic_bench; print(sorted(m for m in ('wordllama', 'tokenizers', 'llama_cpp', "
            "'httpx', 'textual') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"
