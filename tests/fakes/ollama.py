"""A fake Ollama speaking its real NDJSON /api/chat protocol, /api/tags listing and /api/embed."""

from __future__ import annotations

import hashlib
import json
import math
import re

from tests.fakes.server import FakeServer, Reply, Seen


def chat_stream(model: str, pieces: list[str], prompt_eval: int | None = 12, eval_count: int | None = None) -> list[bytes]:
    lines = [
        json.dumps({"model": model, "created_at": "2024-05-24T20:57:43Z", "message": {"role": "assistant", "content": p}, "done": False})
        for p in pieces
    ]
    final: dict[str, object] = {"model": model, "created_at": "2024-05-24T20:57:44Z", "message": {"role": "assistant", "content": ""},
                                "done": True, "done_reason": "stop", "total_duration": 1000, "load_duration": 10}
    if prompt_eval is not None:
        final["prompt_eval_count"] = prompt_eval
    if eval_count is not None or pieces:
        final["eval_count"] = eval_count if eval_count is not None else len(pieces)
    lines.append(json.dumps(final))
    return [(line + "\n").encode() for line in lines]


def tags(models: list[str]) -> Reply:
    return Reply.json({"models": [{"name": m, "model": m, "modified_at": "2024-05-24T20:57:43Z", "size": 2019393189,
                                   "digest": "a80c4f17acd5", "details": {"format": "gguf", "family": "llama"}} for m in models]})


def tool_calls_stream(model: str, calls: list[tuple[str, dict[str, object]]], prompt_eval: int = 169) -> list[bytes]:
    """A turn that ends by asking for `calls` (name, arguments), shaped like Ollama's documented stream (tests/fixtures/
    ollama/ollama-docs, "Chat request (Streaming with tools)"): one line with the calls whole, then the done line."""
    first = {"model": model, "created_at": "2025-07-07T20:22:19.184789Z", "done": False, "message": {
        "role": "assistant", "content": "", "tool_calls": [{"function": {"name": n, "arguments": a}} for n, a in calls]}}
    final = {"model": model, "created_at": "2025-07-07T20:22:19.19314Z", "message": {"role": "assistant", "content": ""},
             "done_reason": "stop", "done": True, "total_duration": 182242375, "load_duration": 41295167,
             "prompt_eval_count": prompt_eval, "prompt_eval_duration": 24573166, "eval_count": 15,
             "eval_duration": 115959084}
    return [(json.dumps(line) + "\n").encode() for line in (first, final)]


def bag_of_words(text: str, dim: int = 64) -> list[float]:
    """A stand-in embedding: hashed word counts, so the same words (any case or punctuation) give the same vector."""
    vector = [0.0] * dim
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        vector[int(hashlib.blake2b(word.encode(), digest_size=4).hexdigest(), 16) % dim] += 1.0
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


def show(capabilities: list[str] | None) -> Reply:
    """/api/show for a model; `capabilities` None is an Ollama too old to list them."""
    body: dict[str, object] = {"modelfile": "", "template": "", "details": {"format": "gguf", "family": "llama"},
                               "model_info": {}, "modified_at": "2024-05-24T20:57:43Z"}
    if capabilities is not None:
        body["capabilities"] = capabilities
    return Reply.json(body)


class FakeOllama(FakeServer):
    """Answers every chat with `pieces` (or plays `replies`, one per chat); models listed by /api/tags are `models`;
    /api/show lists `capabilities` for every model."""

    def __init__(self, models: list[str] | None = None, pieces: list[str] | None = None,
                 replies: list[Reply] | None = None, capabilities: list[str] | None = None) -> None:
        self.models = ["llama3.2:latest"] if models is None else models
        self.pieces = pieces or ["Paris", " is the", " capital."]
        self.replies = list(replies or [])
        self.capabilities = ["completion", "tools"] if capabilities is None else capabilities
        super().__init__({("GET", "/api/tags"): lambda s: tags(self.models), ("POST", "/api/chat"): self._chat,
                          ("POST", "/api/show"): lambda s: show(self.capabilities),
                          ("POST", "/api/embed"): self._embed})

    def _embed(self, seen: Seen) -> Reply:
        """The documented reply: {"model", "embeddings": [[...], ...], durations, prompt_eval_count}."""
        body = seen.json()
        assert isinstance(body, dict)
        if body["model"] not in self.models:
            return Reply.json({"error": f"model \"{body['model']}\" not found, try pulling it first"}, 404)
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        return Reply.json({"model": body["model"], "embeddings": [bag_of_words(t) for t in texts],
                           "total_duration": 14143917, "load_duration": 1019500, "prompt_eval_count": len(texts)})

    def _chat(self, seen: Seen) -> Reply:
        body = seen.json()
        assert isinstance(body, dict)
        model = body["model"]
        names = set(self.models) | {m.split(":")[0] for m in self.models if m.endswith(":latest")}
        if model not in names:
            return Reply.json({"error": f"model '{model}' not found"}, 404)
        if body.get("tools") and "tools" not in self.capabilities:  # what Ollama answers for such a model
            return Reply.json({"error": f"registry.ollama.ai/library/{model} does not support tools"}, 400)
        if self.replies:
            return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        return Reply(200, chat_stream(model, self.pieces), content_type="application/x-ndjson")
