"""Anthropic provider against real recordings served over loopback: text, exact usage, error types, request shape."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.core.errors import AuthError, BadRequest, ConnectionLost, ModelNotFound, Overloaded, RateLimited
from assistant.core.types import Usage
from tests.fakes.anthropic import PATH, FakeAnthropic, error_event, message_stream
from tests.fakes.cassettes import Recorded, cassette, snapshot, sse_file
from tests.fakes.cloud import KEY, request, run
from tests.fakes.server import FakeServer, Reply

# llm-anthropic's real cassettes: (file, interaction) -> (text or None for "long text", input tokens, output tokens).
# Input counts include cache_creation/cache_read tokens; output is message_delta's cumulative output_tokens.
CASSETTES = {
    ("test_prompt.yaml", 0): ("- Captain\n- Scoop", 17, 10),
    ("test_async_prompt.yaml", 1): ("- Capitaine\n- Bec (beak)", 32, 16),  # second turn of a conversation
    ("test_stream_events_text.yaml", 0): ("Hello", 10, 4),
    ("test_image_prompt.yaml", 0): ("Red square, green square.", 83, 9),
    ("test_sonnet_46_prompt.yaml", 0): ("**Pete** or **Scoop**", 17, 12),
    ("test_sonnet_46_effort_without_thinking.yaml", 0): ("**Pete** and **Scoop**", 17, 12),
    ("test_opus_46_prompt.yaml", 0): ("1. **Captain Scoop**\n2. **Gullet**", 17, 20),
    ("test_thinking_prompt.yaml", 0): ("- Captain\n- Scoop", 46, 84),  # thinking deltas are not answer text
    ("test_opus_46_adaptive_thinking.yaml", 0): ("\n\n1. **Captain Scoop**\n2. **Gullet**", 34, 44),
    ("test_stream_events_thinking.yaml", 0): (None, 46, 133),
    ("test_parts_thinking.yaml", 0): (None, 46, 234),
    ("test_stream_events_tool_calls.yaml", 0): ("", 543, 40),  # tool input JSON is not answer text
    ("test_tools.yaml", 0): ("", 542, 62),
    ("test_tools.yaml", 1): (None, 678, 82),
    ("test_schema_prompt.yaml", 0): (None, 230, 94),
    ("test_opus_46_schema.yaml", 0): (None, 231, 118),
    ("test_prompt_with_prefill_and_stop_sequences.yaml", 0): (None, 16, 28),
    ("test_web_search.yaml", 0): (None, 10423, 341),
    ("test_url_prompt.yaml", 2): (None, 273, 206),
}
# The SDK's hand-written stream fixtures (exact framing, ping events, no final blank line): text, input, output.
SDK_STREAMS = {
    "basic_response.sse": ("Hello there!", 11, 6),
    "compaction_response.sse": ("Hello there!", 30, 8),
    "fallback_credit_response.sse": ("Hello there!", 25, 8),
    "fallback_response.sse": ("Hello there!", 25, 8),
    "incomplete_partial_json_response.sse": (None, 450, 124),
    "refusal_response.sse": ("", 20, 0),
    "tool_use_response.sse": ("I'll check the current weather in Paris for you.", 377, 65),
}


async def serve(recorded: Recorded, chunk_size: int = 0, model: str = "", **net: object):
    with FakeServer({("POST", PATH): recorded.reply(chunk_size)}) as server:
        return await run("anthropic", server.url, request("anthropic", model), **net)


@pytest.mark.parametrize("where", sorted(CASSETTES), ids=lambda w: f"{Path(w[0]).stem}-{w[1]}")
async def test_llm_anthropic_cassettes(fixtures_dir: Path, where: tuple[str, int]) -> None:
    text, input_tokens, output_tokens = CASSETTES[where]
    recorded = cassette(fixtures_dir / "anthropic/llm-anthropic" / where[0])[where[1]]
    out = await serve(recorded, chunk_size=11)
    assert out.error is None
    assert out.text == text if text is not None else out.text.strip()
    assert out.usage == Usage(input_tokens, output_tokens)


@pytest.mark.parametrize("name", sorted(SDK_STREAMS))
async def test_sdk_stream_fixtures(fixtures_dir: Path, name: str) -> None:
    text, input_tokens, output_tokens = SDK_STREAMS[name]
    out = await serve(sse_file(fixtures_dir / "anthropic/anthropic-sdk-python/streaming-fixtures" / name), chunk_size=5)
    assert out.error is None
    assert out.text == text if text is not None else out.text.startswith("I'll create a comprehensive tax guide")
    assert out.usage == Usage(input_tokens, output_tokens)


async def test_pydantic_ai_streams(fixtures_dir: Path) -> None:
    redacted = await serve(cassette(fixtures_dir / "pydantic-ai/anthropic/test_anthropic_model_thinking_part_redacted_stream.yaml")[0])
    assert redacted.error is None and redacted.text.startswith("I notice that") and redacted.usage == Usage(92, 189)
    short = await serve(cassette(fixtures_dir / "pydantic-ai/anthropic/test_request_stream_fallback_for_high_max_tokens.yaml")[0])
    assert (short.error, short.text, short.usage) == (None, "2", Usage(20, 5))


async def test_recorded_rate_limits_then_success(fixtures_dir: Path) -> None:
    """The SDK's real 429, 429, 200 sequence: each 429 is RateLimited; the 200 stream parses exactly."""
    name = "anthropic/anthropic-sdk-python/recorded-snapshots/test_messages__TestAsyncStream__a8b7dbb8-2321-4624-abdb-7ba2136b5c38.json"
    exchanges = snapshot(fixtures_dir / name)
    assert [e.status for e in exchanges] == [429, 429, 200]
    for limited in exchanges[:2]:
        out = await serve(limited)
        assert isinstance(out.error, RateLimited) and out.error.retryable and out.error.retry_after is None
        assert "rate limit" in out.error.message
    out = await serve(exchanges[2], chunk_size=13)
    assert out.error is None and out.usage == Usage(135, 10)
    assert out.text == "[12345,67890]"


ERRORS = {
    "mirascope/test_authentication_error/anthropic_claude_sonnet_4_0.yaml": AuthError,
    "mirascope/test_authentication_error/anthropic_beta_claude_sonnet_4_0.yaml": AuthError,
    "mirascope/test_authentication_error_stream/anthropic_claude_sonnet_4_0.yaml": AuthError,
    "mirascope/test_authentication_error_stream/anthropic_beta_claude_sonnet_4_0.yaml": AuthError,
    "mirascope/test_model_not_found/anthropic_claude_sonnet_4_0.yaml": ModelNotFound,
    "mirascope/test_model_not_found_stream/anthropic_claude_sonnet_4_0.yaml": ModelNotFound,
    "mirascope/test_model_not_found_stream/anthropic_beta_claude_sonnet_4_0.yaml": ModelNotFound,
    "pydantic-ai/anthropic/test_anthropic_count_tokens_error.yaml": ModelNotFound,
    "pydantic-ai/anthropic/test_anthropic_explicit_effort_xhigh_unsupported_model_errors.yaml": BadRequest,
}


@pytest.mark.parametrize("name", sorted(ERRORS))
async def test_recorded_error_bodies(fixtures_dir: Path, name: str) -> None:
    out = await serve(cassette(fixtures_dir / name)[0], model="this-model-does-not-exist")
    assert type(out.error) is ERRORS[name]
    if ERRORS[name] is AuthError:
        assert "assistant keys set anthropic" in out.error.message and "ANTHROPIC_API_KEY" in out.error.message
    if ERRORS[name] is ModelNotFound:
        assert "this-model-does-not-exist" in out.error.message
    if ERRORS[name] is BadRequest:
        assert "effort level" in out.error.message


async def test_mid_stream_overloaded_errors_from_issues(fixtures_dir: Path) -> None:
    entries = json.loads((fixtures_dir / "errors/observed_error_payloads_from_issues.json").read_text())["entries"]
    observed = [e["sse_data"] for e in entries if "sse_data" in e]
    assert observed
    for data in observed:
        chunks = message_stream(["Hel"], stop=False)[:3] + [f"event: error\ndata: {json.dumps(data)}\n\n".encode()]
        with FakeAnthropic(replies=[Reply(200, chunks, content_type="text/event-stream")]) as server:
            out = await run("anthropic", server.base_url)
        assert isinstance(out.error, Overloaded) and out.error.retryable


async def test_status_529_and_rate_limit_headers() -> None:
    overloaded = Reply.json({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}, 529,
                            {"retry-after": "2"})
    with FakeAnthropic(replies=[overloaded]) as server:
        out = await run("anthropic", server.base_url)
    assert isinstance(out.error, Overloaded) and out.error.retry_after == 2.0


async def test_request_shape() -> None:
    with FakeAnthropic(pieces=["Bonjour"]) as server:
        out = await run("anthropic", server.base_url,
                        request("anthropic", "claude-haiku-4-5", "Hi", system="Answer in French", temperature=1.5, max_tokens=64))
    assert (out.text, out.usage) == ("Bonjour", Usage(12, 1))
    seen = server.seen[0]
    assert seen.path == "/v1/messages"
    assert seen.headers["x-api-key"] == KEY and seen.headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in seen.headers
    body = seen.json()
    assert body["system"] == "Answer in French" and body["messages"] == [{"role": "user", "content": "Hi"}]
    assert body["max_tokens"] == 64 and body["stream"] is True
    assert body["temperature"] == 1.0  # Anthropic's range ends at 1


async def test_stream_without_message_stop_is_connection_lost() -> None:
    with FakeAnthropic(replies=[Reply(200, message_stream(["Hi"], stop=False), content_type="text/event-stream")]) as server:
        out = await run("anthropic", server.base_url)
    assert out.text == "Hi" and isinstance(out.error, ConnectionLost)


async def test_error_event_kinds() -> None:
    for kind, expected in (("overloaded_error", Overloaded), ("rate_limit_error", RateLimited),
                           ("api_error", Overloaded), ("invalid_request_error", BadRequest)):
        chunks = message_stream([], stop=False)[:1] + [error_event(kind, "it went wrong")]
        with FakeAnthropic(replies=[Reply(200, chunks, content_type="text/event-stream")]) as server:
            out = await run("anthropic", server.base_url)
        assert type(out.error) is expected, kind
        # Said in the server's own words: the response was HTTP 200, so no status is made up for it.
        assert out.error is not None and "it went wrong" in out.error.message and "HTTP" not in out.error.message
        if expected is Overloaded:
            assert f"{kind} in the answer stream: it went wrong" in out.error.message
