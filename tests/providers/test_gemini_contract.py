"""Gemini provider against real recordings served over loopback: text, exact usage, error types, request shape."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.core.errors import AuthError, BadRequest, ConnectionLost, ModelNotFound, Overloaded, RateLimited
from assistant.core.types import Usage
from tests.fakes.cassettes import Recorded, cassette, json_array_as_sse
from tests.fakes.cloud import KEY, request, run
from tests.fakes.gemini import PATH, FakeGemini, content_stream
from tests.fakes.server import FakeServer, Reply

# pydantic-ai's real alt=sse bodies: (file, interaction) -> (text, promptTokenCount, candidates + thoughts).
SSE_CASSETTES = {
    ("test_google_model_stream.yaml", 0): ("The capital of France is Paris.\n", 13, 8),  # prompt count 15 -> 13: last wins
    ("test_google_model_iter_stream.yaml", 0): ("", 52, 5),  # a function call only
    ("test_google_model_iter_stream.yaml", 2): ("The temperature in Paris is 30°C.\n", 79, 12),
    ("test_cancel_recorded_provider_stream[google].yaml", 0): ("Paris", 6, 36),
    ("test_google_model_thinking_part_iter.yaml", 0): (None, 34, 1256),
    ("test_google_stream_usage_is_live_mid_stream.yaml", 0): (None, 18, 115),
    ("test_google_streaming_tool_call_thought_signature.yaml", 1): ("The capital of Mexico is Mexico City.", 257, 8),
}
# llm-gemini's real chunks (recorded without alt=sse, as one JSON array), re-framed the way alt=sse sends them.
ARRAY_CASSETTES = {
    ("test_prompt.yaml", 0): ("Scoop", 11, 293),  # candidates 2 + thoughts 291 (total 304 = 11 + 2 + 291)
    ("test_prompt_async.yaml", 0): ("Scoop", 11, 361),
    ("test_resolved_model.yaml", 0): ("Hello! How can I help you today?", 2, 188),
    ("test_tools.yaml", 2): ("How about Charles and Sammy?", 137, 6),
    ("test_tools_with_gemini_3_thought_signatures.yaml", 1): ("5 times 3 is 15.", 121, 9),
    ("test_prompt_with_multiple_dogs.yaml", 0): (None, 6, 635),
}


async def serve(recorded: Recorded, chunk_size: int = 0, model: str = "", **net: object):
    with FakeServer({("POST", PATH): recorded.reply(chunk_size)}) as server:
        out = await run("gemini", server.url, request("gemini", model), **net)
    return out


@pytest.mark.parametrize("where", sorted(SSE_CASSETTES), ids=lambda w: f"{Path(w[0]).stem}-{w[1]}")
async def test_alt_sse_cassettes(fixtures_dir: Path, where: tuple[str, int]) -> None:
    text, prompt, output = SSE_CASSETTES[where]
    recorded = cassette(fixtures_dir / "pydantic-ai/gemini" / where[0])[where[1]]
    assert "alt=sse" in recorded.uri
    out = await serve(recorded, chunk_size=9)
    assert out.error is None
    assert out.text == text if text is not None else len(out.text) > 20
    assert out.usage == Usage(prompt, output)


@pytest.mark.parametrize("where", sorted(ARRAY_CASSETTES), ids=lambda w: f"{Path(w[0]).stem}-{w[1]}")
async def test_llm_gemini_chunks(fixtures_dir: Path, where: tuple[str, int]) -> None:
    text, prompt, output = ARRAY_CASSETTES[where]
    recorded = cassette(fixtures_dir / "gemini/llm-gemini" / where[0])[where[1]]
    framed = Recorded(recorded.method, recorded.uri, recorded.request_body, 200, {"content-type": "text/event-stream"},
                      json_array_as_sse(recorded.body))
    out = await serve(framed)
    assert out.error is None
    assert out.text == text if text is not None else out.text.startswith('{"dogs":[')
    assert out.usage == Usage(prompt, output)


ERRORS = {
    "mirascope/test_authentication_error/google_gemini_2_5_flash.yaml": AuthError,  # HTTP 400 "API key not valid"
    "mirascope/test_authentication_error_stream/google_gemini_2_5_flash.yaml": AuthError,
    "mirascope/test_model_not_found/google_gemini_2_5_flash.yaml": ModelNotFound,
    "mirascope/test_model_not_found_stream/google_gemini_2_5_flash.yaml": ModelNotFound,
}


@pytest.mark.parametrize("name", sorted(ERRORS))
async def test_recorded_error_bodies(fixtures_dir: Path, name: str) -> None:
    out = await serve(cassette(fixtures_dir / name)[0], model="this-model-does-not-exist-12345")
    assert type(out.error) is ERRORS[name]
    if ERRORS[name] is AuthError:
        assert "assistant keys set gemini" in out.error.message and "GEMINI_API_KEY" in out.error.message
    else:
        assert "this-model-does-not-exist-12345" in out.error.message


async def test_resource_exhausted_bodies_from_issues(fixtures_dir: Path) -> None:
    entries = json.loads((fixtures_dir / "errors/observed_error_payloads_from_issues.json").read_text())["entries"]
    body = next(e["body"] for e in entries if e["provider"] == "gemini" and "body" in e)
    out = await serve(Recorded("POST", "", "", 429, {"content-type": "application/json"}, json.dumps(body).encode()))
    assert isinstance(out.error, RateLimited) and out.error.retry_after is None
    # Google's RetryInfo detail says how long to wait when no header does.
    body = {"error": {"code": 429, "message": "Quota exceeded", "status": "RESOURCE_EXHAUSTED", "details": [
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "37s"}]}}
    out = await serve(Recorded("POST", "", "", 429, {"content-type": "application/json"}, json.dumps(body).encode()))
    assert isinstance(out.error, RateLimited) and out.error.retry_after == 37.0


async def test_request_shape_keeps_the_key_out_of_the_url() -> None:
    with FakeGemini(pieces=["Ciao"]) as server:
        out = await run("gemini", server.base_url, request("gemini", "gemini-2.5-flash", "Hi", system="Be Italian", temperature=0.3))
    assert (out.text, out.usage) == ("Ciao", Usage(12, 1))
    seen = server.seen[0]
    assert seen.path == "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    assert seen.headers["x-goog-api-key"] == KEY and KEY not in seen.path
    body = seen.json()
    assert body["contents"] == [{"role": "user", "parts": [{"text": "Hi"}]}]
    assert body["systemInstruction"] == {"parts": [{"text": "Be Italian"}]}
    assert body["generationConfig"] == {"maxOutputTokens": 200, "temperature": 0.3}


async def test_base_url_with_version_and_thinking_tokens() -> None:
    reply = Reply(200, content_stream(["Hi", "!"], prompt_tokens=5, output_tokens=2, thoughts=40), content_type="text/event-stream")
    with FakeGemini(replies=[reply]) as server:
        out = await run("gemini", server.url + "/v1beta")
    assert server.seen[0].path.startswith("/v1beta/models/gemini-2.5-flash:")
    assert (out.text, out.usage) == ("Hi!", Usage(5, 42))


async def test_stream_without_finish_reason_is_connection_lost() -> None:
    with FakeGemini(replies=[Reply(200, content_stream(["Hi"], finish=False), content_type="text/event-stream")]) as server:
        out = await run("gemini", server.base_url)
    assert out.text == "Hi" and isinstance(out.error, ConnectionLost)


async def test_server_errors_and_mid_stream_errors() -> None:
    unavailable = Reply.json({"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}}, 503)
    with FakeGemini(replies=[unavailable]) as server:
        out = await run("gemini", server.base_url)
    assert isinstance(out.error, Overloaded) and "overloaded" in out.error.message
    mid = content_stream(["Hi", "x"], finish=False)[:1] + [b'data: {"error": {"code": 500, "message": "Internal error", "status": "INTERNAL"}}\r\n\r\n']
    with FakeGemini(replies=[Reply(200, mid, content_type="text/event-stream")]) as server:
        out = await run("gemini", server.base_url)
    assert isinstance(out.error, Overloaded)
    blocked = [b'data: {"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": {"promptTokenCount": 4}}\r\n\r\n']
    with FakeGemini(replies=[Reply(200, blocked, content_type="text/event-stream")]) as server:
        out = await run("gemini", server.base_url)
    assert isinstance(out.error, BadRequest) and "SAFETY" in out.error.message
