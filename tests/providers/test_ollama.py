"""Ollama provider against a loopback server replaying the real recordings in shared/fixtures/ollama."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from assistant.core.errors import ConnectionLost, ModelNotFound, ProviderUnavailable
from assistant.core.types import ChatMessage, GenerationSettings, ModelRef, ProviderRequest, Usage
from assistant.providers.ollama import OllamaProvider
from tests.fakes.ollama import FakeOllama, chat_stream
from tests.fakes.server import FakeServer, Reply
from tests.helpers import real_provider

STREAMING = ["test_ollama_streaming_chat_legacy.yaml", "test_ollama_async_streaming_chat_legacy.yaml"]


def provider(url: str) -> OllamaProvider:
    found: OllamaProvider = real_provider("ollama", host=url)
    return found


def request(model: str = "llama3", **gen: object) -> ProviderRequest:
    return ProviderRequest(ModelRef("ollama", model), (ChatMessage("system", "be brief"), ChatMessage("user", "joke")),
                           GenerationSettings(**gen))  # type: ignore[arg-type]


def recorded_chat(fixtures: Path, name: str) -> bytes:
    cassette = yaml.safe_load((fixtures / "ollama" / "openllmetry" / name).read_text())
    body = cassette["interactions"][0]["response"]["body"]["string"]
    return body.encode() if isinstance(body, str) else body


async def collect(p: OllamaProvider, req: ProviderRequest) -> tuple[str, Usage | None]:
    text, usage = "", None
    async for chunk in p.stream(req):
        if isinstance(chunk, str):
            text += chunk
        else:
            usage = chunk
    return text, usage


@pytest.mark.parametrize("name", STREAMING)
async def test_recorded_ndjson_stream(fixtures_dir: Path, name: str) -> None:
    body = recorded_chat(fixtures_dir, name)
    lines = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
    expected = "".join(line["message"]["content"] for line in lines)
    final = lines[-1]
    with FakeServer({("POST", "/api/chat"): Reply(200, [body], content_type="application/x-ndjson")}) as server:
        p = provider(server.url)
        text, usage = await collect(p, request())
        sent = server.seen[0].json()
    assert text == expected and text
    assert usage == Usage(final.get("prompt_eval_count", 0), final.get("eval_count", 0),
                          estimated="prompt_eval_count" not in final or "eval_count" not in final)
    assert isinstance(sent, dict) and sent["stream"] is True and sent["messages"][0] == {"role": "system", "content": "be brief"}


async def test_recorded_tags_listing(fixtures_dir: Path) -> None:
    data = json.loads((fixtures_dir / "ollama" / "ollama-bash-lib-demos" / "api_tags_local.json").read_text())
    with FakeServer({("GET", "/api/tags"): Reply.json(data)}) as server:
        models = await provider(server.url).list_models()
    assert [m.ref.model for m in models] == [m["model"] for m in data["models"]]
    assert all(m.available and m.local for m in models) and models[0].size.endswith("GB")


async def test_missing_counts_are_marked_estimated() -> None:
    chunks = chat_stream("llama3", ["Hi"], prompt_eval=None, eval_count=None)
    chunks[-1] = json.dumps({"model": "llama3", "message": {"role": "assistant", "content": ""}, "done": True}).encode() + b"\n"
    with FakeServer({("POST", "/api/chat"): Reply(200, chunks)}) as server:
        text, usage = await collect(provider(server.url), request())
    assert text == "Hi" and usage is not None and usage.estimated


async def test_options_mapped() -> None:
    with FakeOllama(models=["llama3:latest"]) as server:
        await collect(provider(server.url), request("llama3", temperature=0.2, max_tokens=7, seed=3))
        body = server.seen[-1].json()
    assert isinstance(body, dict) and body["options"] == {"temperature": 0.2, "num_predict": 7, "seed": 3}


@pytest.mark.timeout(20)  # a hang fails the test; how fast it is belongs to `assistant bench`
async def test_down_is_detected_without_hanging() -> None:
    p = provider("http://127.0.0.1:9")
    status = await p.availability()
    assert not status.available and "ollama serve" in status.detail
    with pytest.raises(ProviderUnavailable, match="not running"):
        await collect(p, request())


async def test_model_not_pulled_names_the_pull_command() -> None:
    with FakeOllama(models=["llama3.2:latest"]) as server:
        with pytest.raises(ModelNotFound, match="assistant models pull mistral"):
            await collect(provider(server.url), request("mistral"))


async def test_stream_without_done_is_a_dropped_connection() -> None:
    chunks = chat_stream("llama3", ["Half", " way"])[:-1]
    with FakeServer({("POST", "/api/chat"): Reply(200, chunks)}) as server:
        with pytest.raises(ConnectionLost):
            await collect(provider(server.url), request())


async def test_running_without_models_says_pull() -> None:
    with FakeOllama(models=[]) as server:
        status = await provider(server.url).availability()
    assert not status.available and "assistant models pull llama3.2" in status.detail
