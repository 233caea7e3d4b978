"""A fake Ollama speaking its real NDJSON /api/chat protocol, /api/tags listing, /api/embed, and model management:
a streamed /api/pull over several layers (which registers the model only once its manifest is written, as Ollama
does), /api/show, /api/ps, /api/delete and unloading through /api/generate."""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from tests.conftest import FIXTURES
from tests.fakes.server import FakeServer, Reply, Seen

DEMOS = FIXTURES / "ollama" / "ollama-bash-lib-demos"


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


def recorded_show() -> dict[str, object]:
    """A real /api/show answer (gemma3n:e2b on Ollama 0.11, from ollama-bash-lib's demos)."""
    data: dict[str, object] = json.loads((DEMOS / "api_show_local.json").read_text(encoding="utf-8"))
    return data


def recorded_ps() -> dict[str, object]:
    data: dict[str, object] = json.loads((DEMOS / "api_ps_local.json").read_text(encoding="utf-8"))
    return data


@dataclass(frozen=True)
class Layer:
    size: int
    name: str = "model"

    @property
    def digest(self) -> str:
        return "sha256:" + hashlib.sha256(f"{self.name}:{self.size}".encode()).hexdigest()


# What `ollama pull llama3.2` fetches: the weights, then small template, license, params layers.
LLAMA_LAYERS = [Layer(2_019_377_376, "weights"), Layer(1_429, "template"), Layer(7_711, "license"),
                Layer(6_016, "license2"), Layer(96, "params")]


def _line(data: dict[str, object]) -> bytes:
    return (json.dumps(data) + "\n").encode()


class FakeOllama(FakeServer):
    """Answers every chat with `pieces` (or plays `replies`, one per chat); /api/tags lists `models`; /api/show
    answers for those with the real recorded body, its capabilities being `capabilities`. Pulls come from
    `registry` (name -> layers), each layer in `steps` progress lines; `fail_at` sends {"error": fail_text} after that
    many lines, `cut_at` drops the connection there; `line_delay` slows the stream (seconds a line)."""

    def __init__(self, models: list[str] | None = None, pieces: list[str] | None = None,
                 replies: list[Reply] | None = None, capabilities: list[str] | None = None, *,
                 registry: dict[str, list[Layer]] | None = None, steps: int = 4, fail_at: int | None = None,
                 fail_text: str = "", cut_at: int | None = None, line_delay: float = 0.0) -> None:
        self.models = ["llama3.2:latest"] if models is None else models
        self.pieces = pieces or ["Paris", " is the", " capital."]
        self.replies = list(replies or [])
        self.capabilities = ["completion", "tools"] if capabilities is None else capabilities
        self.registry = {"llama3.2:latest": LLAMA_LAYERS} if registry is None else registry
        self.steps, self.fail_at, self.fail_text, self.cut_at, self.line_delay = steps, fail_at, fail_text, cut_at, line_delay
        self.loaded = recorded_ps()
        self.pulls: list[tuple[str, str]] = []  # (model, "complete" | "abandoned" | "failed")
        self.pull_started = threading.Event()
        super().__init__({
            ("GET", "/api/tags"): lambda s: tags(self.models),
            ("POST", "/api/chat"): self._chat,
            ("POST", "/api/pull"): self._pull,
            ("POST", "/api/show"): self._show,
            ("GET", "/api/ps"): lambda s: Reply.json(self.loaded),
            ("DELETE", "/api/delete"): self._delete,
            ("POST", "/api/generate"): self._generate,
            ("POST", "/api/embed"): self._embed,
        })

    def _known(self, model: str) -> str | None:
        full = model if ":" in model else f"{model}:latest"
        return full if full in self.models else None

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

    # management -------------------------------------------------------------------------------------
    def _pull(self, seen: Seen) -> Reply:
        body = seen.json()
        assert isinstance(body, dict)
        model = str(body["model"])
        full = model if ":" in model else f"{model}:latest"
        return Reply(200, self._pull_lines(full), content_type="application/x-ndjson", delay=self.line_delay,
                     cut_after=self.cut_at)

    def _pull_lines(self, model: str) -> Iterator[bytes]:
        """Ollama's order: the manifest, each layer's progress, verify, write the manifest (only now is the model
        listed), remove unused layers, success. Closed early, the model is never listed."""
        outcome = "abandoned"
        self.pull_started.set()
        sent = 0
        try:
            lines: list[dict[str, object]] = [{"status": "pulling manifest"}]
            layers = self.registry.get(model)
            if layers is None:
                lines.append({"error": "pull model manifest: file does not exist"})
            for layer in layers or ():
                for step in range(1, self.steps + 1):
                    lines.append({"status": f"pulling {layer.digest[7:19]}", "digest": layer.digest,
                                  "total": layer.size, "completed": layer.size * step // self.steps})
            if layers is not None:
                lines += [{"status": "verifying sha256 digest"}, {"status": "writing manifest"},
                          {"status": "removing any unused layers"}, {"status": "success"}]
            for line in lines:
                if self.fail_at is not None and sent == self.fail_at:
                    outcome = "failed"
                    yield _line({"error": self.fail_text})
                    return
                if line.get("status") == "writing manifest" and model not in self.models:
                    self.models.append(model)
                if "error" in line:
                    outcome = "failed"
                sent += 1
                yield _line(line)
            outcome = "complete" if layers is not None else outcome
        finally:
            self.pulls.append((model, outcome))

    def _show(self, seen: Seen) -> Reply:
        body = seen.json()
        assert isinstance(body, dict)
        if self._known(str(body["model"])) is None:
            return Reply.json({"error": f"model '{body['model']}' not found"}, 404)
        return Reply.json({**recorded_show(), "capabilities": self.capabilities})

    def _delete(self, seen: Seen) -> Reply:
        body = seen.json()
        assert isinstance(body, dict)
        found = self._known(str(body["model"]))
        if found is None:
            return Reply.json({"error": f"model '{body['model']}' not found"}, 404)
        self.models.remove(found)
        return Reply(200, [])

    def _generate(self, seen: Seen) -> Reply:
        """Only the documented unload: no prompt and keep_alive 0."""
        body = seen.json()
        assert isinstance(body, dict) and body.get("keep_alive") == 0 and not body.get("prompt")
        models = self.loaded["models"]
        assert isinstance(models, list)
        self.loaded = {"models": [m for m in models if m["model"] != body["model"]]}
        return Reply.json({"model": body["model"], "created_at": "2024-09-12T03:54:03.516566Z", "response": "",
                           "done": True, "done_reason": "unload"})
