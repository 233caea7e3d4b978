"""The loopback fakes' tool-call turns against real recordings: the real provider class reads the same calls from
both, and every field a fake sends is one the provider really sends, at the same place."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from assistant.core.tools import ToolCall, ToolSpec
from assistant.core.types import ChatMessage, GenerationSettings, ModelRef, ProviderRequest
from tests.fakes import anthropic as fa
from tests.fakes import gemini as fg
from tests.fakes import ollama as fo
from tests.fakes import openai as foa
from tests.fakes.cassettes import cassette
from tests.fakes.cloud import run
from tests.fakes.server import FakeServer, Reply
from tests.helpers import real_provider
from tests.tools.engine_helpers import ndjson, sse

FIX = Path(__file__).resolve().parents[1] / "fixtures"


def paths(value: Any, prefix: str = "") -> set[str]:
    """Every key path in a JSON value ("choices.delta.tool_calls.function.arguments"); list positions collapse."""
    if isinstance(value, dict):
        out = {prefix} if prefix else set()
        for key, item in value.items():
            out |= paths(item, f"{prefix}.{key}" if prefix else key)
        return out
    if isinstance(value, list):
        return set().union(*(paths(item, prefix) for item in value)) if value else {prefix}
    return {prefix}


def events(body: bytes) -> list[Any]:
    """The JSON of each SSE event or NDJSON line."""
    text = body.decode("utf-8")
    if "data:" not in text:
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    out = []
    for block in re.split(r"\r?\n\r?\n", text):
        data = "\n".join(line[5:].strip() for line in block.splitlines() if line.startswith("data:"))
        if data and data != "[DONE]":
            out.append(json.loads(data))
    return out


def request(provider: str, model: str, tools: list[str]) -> ProviderRequest:
    offered = tuple(ToolSpec("rec", name, "", {}, wire_name=name) for name in tools)
    return ProviderRequest(ModelRef(provider, model), (ChatMessage("user", "Use the tool"),), GenerationSettings(), offered)


def essentials(calls: tuple[ToolCall, ...]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(c.qualified, c.provider_id, dict(c.arguments)) for c in calls]


async def _cloud(provider: str, path: str, reply: Reply, model: str, tools: list[str], suffix: str = "") -> tuple[ToolCall, ...]:
    with FakeServer({("POST", path): reply}) as server:
        outcome = await run(provider, server.url + suffix, request(provider, model, tools))
    assert outcome.error is None and outcome.usage is not None
    return outcome.calls


async def _ollama(reply: Reply, tools: list[str]) -> tuple[ToolCall, ...]:
    from assistant.core.tools import ToolCalls

    with fo.FakeOllama(replies=[reply]) as server:
        provider = real_provider("ollama", host=server.url)
        chunks = [c async for c in provider.stream(request("ollama", "llama3.2:latest", tools))]
        await provider.aclose()
    (calls,) = [c for c in chunks if isinstance(c, ToolCalls)]
    return calls.calls


CASES: dict[str, Any] = {
    "openai": (lambda: (FIX / "openai" / "openai-python-sse" / "2018feb66ae1.sse").read_bytes(),
               lambda: b"".join(foa.tool_calls_stream([("call_4XzlGBLtUe9dy3GVNV4jhq7h", "get_weather",
                                                        {"city": "New York City"})])),
               ["get_weather"]),
    "anthropic": (lambda: cassette(FIX / "anthropic" / "llm-anthropic" / "test_tools.yaml")[0].body,
                  lambda: b"".join(fa.tool_use_stream([("toolu_01LtHJmixrs9NcWQkK8hu8hj", "pelican_name_generator", {}),
                                                       ("toolu_01N8a4jWyf116qKTMqKKmjyt", "pelican_name_generator", {})])),
                  ["pelican_name_generator"]),
    "gemini": (lambda: cassette(FIX / "pydantic-ai" / "gemini" /
                                "test_google_streaming_tool_call_thought_signature.yaml")[0].body,
               lambda: b"".join(fg.function_call_stream([("get_country", {})])),
               ["get_country"]),
    "ollama": (lambda: b"".join((json.dumps(o) + "\n").encode() for e in json.loads(
                   (FIX / "ollama" / "ollama-docs" / "api_md_json_examples.json").read_text())
                   if "Chat request (Streaming with tools) > Response" in e["section"] for o in e["objects"]),
               lambda: b"".join(fo.tool_calls_stream("llama3.2", [("get_weather", {"city": "Tokyo"})])),
               ["get_weather"]),
}


@pytest.mark.parametrize("provider", list(CASES))
def test_every_field_a_fake_sends_is_a_real_one(provider: str) -> None:
    recorded, fake, _ = CASES[provider]
    real = set().union(*(paths(e) for e in events(recorded())))
    for event in events(fake()):
        assert paths(event) <= real, sorted(paths(event) - real)


@pytest.mark.parametrize("provider", list(CASES))
async def test_the_provider_reads_the_same_calls_from_the_fake_and_the_recording(provider: str) -> None:
    recorded, fake, tools = CASES[provider]
    if provider == "ollama":
        from_recording = await _ollama(ndjson([recorded()]), tools)
        from_fake = await _ollama(ndjson([fake()]), tools)
    else:
        path, model, suffix = {"openai": ("/v1/chat/completions", "gpt-4o", "/v1"),
                               "anthropic": ("/v1/messages", "claude-haiku-4-5", ""),
                               "gemini": ("/v1beta/models/", "gemini-3-pro-preview", "")}[provider]
        from_recording = await _cloud(provider, path, sse([recorded()]), model, tools, suffix)
        from_fake = await _cloud(provider, path, sse([fake()]), model, tools, suffix)
    assert from_recording and essentials(from_fake) == essentials(from_recording)
    assert all(c.server == "rec" and not c.problem for c in from_fake)
