"""A fake Ollama speaking its real NDJSON /api/chat protocol and /api/tags listing."""

from __future__ import annotations

import json

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


class FakeOllama(FakeServer):
    """Answers every chat with `pieces`; models listed by /api/tags are `models`."""

    def __init__(self, models: list[str] | None = None, pieces: list[str] | None = None) -> None:
        self.models = ["llama3.2:latest"] if models is None else models
        self.pieces = pieces or ["Paris", " is the", " capital."]
        super().__init__({("GET", "/api/tags"): lambda s: tags(self.models), ("POST", "/api/chat"): self._chat})

    def _chat(self, seen: Seen) -> Reply:
        body = seen.json()
        assert isinstance(body, dict)
        model = body["model"]
        names = set(self.models) | {m.split(":")[0] for m in self.models if m.endswith(":latest")}
        if model not in names:
            return Reply.json({"error": f"model '{model}' not found"}, 404)
        return Reply(200, chat_stream(model, self.pieces), content_type="application/x-ndjson")
