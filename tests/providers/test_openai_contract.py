"""OpenAI provider against real recordings served over loopback: text, exact usage, error types, request shape."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.core.errors import (
    AuthError,
    BadRequest,
    ConnectionLost,
    MalformedResponse,
    ModelNotFound,
    Overloaded,
    RateLimited,
)
from assistant.core.types import Usage
from tests.fakes.cassettes import Recorded, cassette, sse_file
from tests.fakes.cloud import KEY, request, run
from tests.fakes.openai import PATH, FakeOpenAI, chat_stream, sse
from tests.fakes.server import FakeServer, Reply

# openai-python's recorded chat.completion.chunk streams: file -> (answer text, prompt_tokens, completion_tokens).
SDK_STREAMS = {
    "173417d55340.sse": ("I'm sorry, I can't assist with that request.", 79, 11),  # refusal delta
    "2018feb66ae1.sse": ("", 44, 16),  # tool call only
    "4cc50a6135d2.sse": ('{"', 79, 1),  # finish_reason "length"
    "569c877e6942.sse": ("I'm very sorry, but I can't assist with that.", 79, 12),
    "7e5ea4d12e7c.sse": ('{"city":"San Francisco","temperature":61,"units":"f"}', 79, 14),
    "83b060bae42e.sse": ("Foo!", 9, 2),
    "a247c49c5fcd.sse": ("", 48, 19),
    "a491adda08c3.sse": ('{"city":"San Francisco","temperature":65,"units":"f"}', 79, 42),  # n=3: first choice only
    "c6aa7e397b71.sse": ("", 76, 24),
    "d61558011839.sse": (None, 19, 177),
    "e2aad469b71d.sse": (None, 14, 30),
    "f82268f2fefd.sse": ("", 149, 60),
}
# Streamed chat/completions cassettes: (file, interaction) -> (text, prompt_tokens, completion_tokens).
CASSETTES = {
    ("openai/simonw-llm/test_tools__test_tool_use_basic.yaml", 0): ("", 54, 20),
    ("openai/simonw-llm/test_tools__test_tool_use_basic.yaml", 1):
        ("The result of \\( 1231 \\times 2331 \\) is \\( 2,869,461 \\).", 87, 26),
    # OpenRouter bodies: no finish_reason anywhere, usage on a chunk that still has choices, then [DONE].
    ("openai/simonw-llm/test_tools_streaming__test_tools_streaming_variant_a.yaml", 1):
        ("The current version of *llm* is **0.fixed-version**.", 107, 15),
    ("openai/simonw-llm/test_tools_streaming__test_tools_streaming_variant_b.yaml", 0): ("", 57, 17),
    ("openai/simonw-llm/test_tools_streaming__test_tools_streaming_variant_c.yaml", 1):
        ("The installed version of LLM on this system is 0.fixed-version.", 105, 16),
    ("openai/simonw-llm/test_tools_streaming__test_tools_streaming_variant_d.yaml", 0): ("", 57, 17),
}


async def serve(recorded: Recorded, chunk_size: int = 0, model: str = "", **net: object):
    with FakeServer({("POST", PATH): recorded.reply(chunk_size)}) as server:
        return await run("openai", server.url + "/v1", request("openai", model), **net)


@pytest.mark.parametrize("name", sorted(SDK_STREAMS))
async def test_sdk_recorded_streams(fixtures_dir: Path, name: str) -> None:
    text, prompt, completion = SDK_STREAMS[name]
    # 7-byte reads split events and UTF-8 sequences across network reads.
    out = await serve(sse_file(fixtures_dir / "openai" / "openai-python-sse" / name), chunk_size=7)
    assert out.error is None
    if text is not None:
        assert out.text == text
    else:
        assert len(out.text) > 100
    assert out.usage == Usage(prompt, completion)


@pytest.mark.parametrize("where", sorted(CASSETTES), ids=lambda w: f"{Path(w[0]).stem}-{w[1]}")
async def test_streamed_cassettes(fixtures_dir: Path, where: tuple[str, int]) -> None:
    text, prompt, completion = CASSETTES[where]
    recorded = cassette(fixtures_dir / where[0])[where[1]]
    assert json.loads(recorded.request_body)["stream_options"] == {"include_usage": True}
    out = await serve(recorded)
    assert (out.error, out.text, out.usage) == (None, text, Usage(prompt, completion))


async def test_pydantic_ai_streams(fixtures_dir: Path) -> None:
    tool_turn, answer = cassette(fixtures_dir / "pydantic-ai/openai/test_run_stream_sync_streams_real_model.yaml")
    first = await serve(tool_turn)
    assert (first.error, first.text, first.usage) == (None, "", Usage(53, 15))
    out = await serve(answer)
    assert (out.error, out.text, out.usage) == (None, "The capital of the UK is London.", Usage(78, 9))
    # Moderation annotations ride along in extra chunks with "usage": null; they must not erase the real usage.
    moderated = await serve(cassette(fixtures_dir / "pydantic-ai/openai/test_openai_moderation_stream.yaml")[0])
    assert (moderated.error, moderated.text, moderated.usage) == (None, "Paris.", Usage(13, 11))


async def test_a_non_streaming_reply_is_malformed(fixtures_dir: Path) -> None:
    # A compatible server that ignores stream=true answers with one JSON object.
    out = await serve(cassette(fixtures_dir / "openai/simonw-llm/test_tools__test_tool_use_chain_of_two_calls.yaml")[0])
    assert isinstance(out.error, MalformedResponse) and out.error.message


ERRORS = {
    "mirascope/test_authentication_error/openai_gpt_4o_completions.yaml": AuthError,
    "mirascope/test_authentication_error_stream/openai_gpt_4o_completions.yaml": AuthError,
    "mirascope/test_model_not_found/openai_gpt_4o_completions.yaml": ModelNotFound,
    "mirascope/test_model_not_found_stream/openai_gpt_4o_completions.yaml": ModelNotFound,
    "pydantic-ai/openai/test_openai_o1_mini_system_role[system].yaml": BadRequest,
    "pydantic-ai/openai/test_openai_web_search_tool_model_not_supported.yaml": BadRequest,
    "pydantic-ai/openrouter/test_openrouter_errors_raised.yaml": RateLimited,
}


@pytest.mark.parametrize("name", sorted(ERRORS))
async def test_recorded_error_bodies(fixtures_dir: Path, name: str) -> None:
    out = await serve(cassette(fixtures_dir / name)[0], model="this-model-does-not-exist")
    assert type(out.error) is ERRORS[name]
    message = out.error.message
    if ERRORS[name] is AuthError:
        assert "assistant keys set openai" in message and "OPENAI_API_KEY" in message
        assert "*****" not in message  # OpenAI quotes part of the rejected key; we never repeat it
    if ERRORS[name] is ModelNotFound:
        assert "this-model-does-not-exist" in message
    if ERRORS[name] is BadRequest:
        assert "rejected the request" in message and len(message.splitlines()) == 1


async def test_observed_429_bodies_carry_the_wait_they_ask_for(fixtures_dir: Path) -> None:
    entries = json.loads((fixtures_dir / "errors/observed_error_payloads_from_issues.json").read_text())["entries"]
    bodies = [e["body"] for e in entries if e["provider"] == "openai" and "body" in e]
    waits = []
    for body in bodies:
        out = await serve(Recorded("POST", "", "", 429, {"content-type": "application/json"}, json.dumps(body).encode()))
        assert isinstance(out.error, RateLimited) and out.error.retryable
        waits.append(out.error.retry_after)
    assert waits == [pytest.approx(0.006), pytest.approx(1.574)]  # "try again in 6ms", "try again in 1.574s"


async def test_retry_after_header_wins_and_insufficient_quota_is_final() -> None:
    limited = Reply.json({"error": {"message": "slow down", "type": "requests", "code": "rate_limit_exceeded"}}, 429,
                         {"retry-after-ms": "250", "retry-after": "3"})
    with FakeOpenAI(replies=[limited]) as server:
        out = await run("openai", server.base_url)
    assert isinstance(out.error, RateLimited) and out.error.retry_after == pytest.approx(0.25)
    quota = Reply.json({"error": {"message": "You exceeded your current quota", "type": "insufficient_quota",
                                  "code": "insufficient_quota"}}, 429)
    with FakeOpenAI(replies=[quota]) as server:
        out = await run("openai", server.base_url)
    assert isinstance(out.error, RateLimited) and not out.error.retryable and "billing" in out.error.message


async def test_request_shape() -> None:
    with FakeOpenAI(pieces=["Hel", "lo"]) as server:
        out = await run("openai", server.base_url, request("openai", "gpt-4o-mini", "Hi", system="Be brief", temperature=0.2))
    assert (out.text, out.usage) == ("Hello", Usage(12, 2))
    seen = server.seen[0]
    assert seen.path == "/v1/chat/completions" and seen.headers["authorization"] == f"Bearer {KEY}"
    assert seen.headers["accept"] == "text/event-stream" and seen.headers["user-agent"].startswith("assistant/")
    body = seen.json()
    assert body["messages"] == [{"role": "system", "content": "Be brief"}, {"role": "user", "content": "Hi"}]
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    # A compatible server (not api.openai.com) gets the widely supported max_tokens.
    assert body["max_tokens"] == 200 and body["temperature"] == 0.2 and "max_completion_tokens" not in body


async def test_stream_without_terminator_is_connection_lost() -> None:
    for chunks in (chat_stream(["Hi"], usage=False, done=False)[:-1],  # no finish_reason, no [DONE]
                   sse([{"choices": [{"index": 0, "delta": {"content": "Hi"}, "finish_reason": None}]}])):
        with FakeOpenAI(replies=[Reply(200, chunks, content_type="text/event-stream")]) as server:
            out = await run("openai", server.base_url)
        assert out.text == "Hi" and isinstance(out.error, ConnectionLost) and out.error.retryable


async def test_dropped_connection_is_connection_lost() -> None:
    reply = Reply(200, chat_stream(["a", "b", "c"]), content_type="text/event-stream", cut_after=2)
    with FakeOpenAI(replies=[reply]) as server:
        out = await run("openai", server.base_url)
    assert isinstance(out.error, ConnectionLost) and out.error.message


async def test_mid_stream_error_and_missing_usage() -> None:
    chunks = chat_stream(["Hi"], done=False, usage=False)[:1] + sse([{"error": {"message": "The server had an error", "type": "server_error", "code": None}}])
    with FakeOpenAI(replies=[Reply(200, chunks, content_type="text/event-stream")]) as server:
        out = await run("openai", server.base_url)
    assert isinstance(out.error, Overloaded)
    # A server that ignores include_usage: the answer stands, usage is marked estimated for the engine.
    with FakeOpenAI(replies=[Reply(200, chat_stream(["Hi"], usage=False), content_type="text/event-stream")]) as server:
        out = await run("openai", server.base_url)
    assert out.text == "Hi" and out.usage is not None and out.usage.estimated


async def test_missing_key_says_how_to_set_it() -> None:
    with FakeOpenAI() as server:
        out = await run("openai", server.base_url, key=None)
    assert isinstance(out.error, AuthError)
    assert "assistant keys set openai" in out.error.message and "OPENAI_API_KEY" in out.error.message
    assert server.seen == []  # nothing is sent without a key
