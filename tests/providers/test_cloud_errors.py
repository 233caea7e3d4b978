"""Shared cloud behaviour: Retry-After parsing, transport failures, key scrubbing, and the retry schedule."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from assistant.core.errors import (
    AuthError,
    BadRequest,
    ConnectionLost,
    Overloaded,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
)
from assistant.engine.retry import RetryPolicy
from assistant.providers.cloud import parse_retry_after, retry_hint
from tests.conftest import CLOSED_PORT_URL
from tests.fakes.cloud import KEY, run
from tests.fakes.openai import FakeOpenAI, chat_stream
from tests.fakes.server import Reply


def test_retry_after_vectors_from_the_anthropic_sdk(fixtures_dir: Path) -> None:
    data = json.loads((fixtures_dir / "errors/anthropic_sdk_retry_after_vectors.json").read_text())
    now = data["now_epoch"]
    checked = 0
    for case in data["cases"]:
        if case["remaining_retries"] != data["max_retries"]:
            continue  # those vectors test the SDK's own backoff, not header parsing
        parsed = parse_retry_after({"retry-after": case["retry_after"]}, now=now)
        raw = case["retry_after"]
        if case["expected_timeout_s"] != 0.5 or raw in ("20", "60"):
            # The SDK honoured the header: so do we, to the second.
            assert parsed == pytest.approx(case["expected_timeout_s"]), raw
        elif raw in ("61", "Fri, 29 Sep 2023 16:27:38 GMT"):
            # The SDK ignores waits over 60 s; we keep them and RetryPolicy caps them at network.retry_max_wait.
            assert parsed == pytest.approx(61), raw
        else:
            assert parsed is None, raw  # zero, negative, past dates, garbage, absurd: fall back to backoff
        checked += 1
    assert checked == 13


def test_retry_after_ms_and_body_hints() -> None:
    assert parse_retry_after({"Retry-After-Ms": "1500", "retry-after": "9"}) == 1.5
    assert parse_retry_after({"retry-after-ms": "soon", "retry-after": "9"}) == 9.0
    assert parse_retry_after({}) is None
    assert retry_hint("Please try again in 174ms. Visit ...") == pytest.approx(0.174)
    assert retry_hint("Quota", [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "2.5s"}]) == 2.5
    assert retry_hint("no hint here") is None


def test_retry_schedule_is_exponential_with_equal_jitter_and_capped() -> None:
    policy = RetryPolicy(max_retries=3, base_delay=0.5, max_delay=20.0)
    rng = random.Random(7)
    overloaded = Overloaded("busy")
    for attempt, (low, high) in enumerate([(0.25, 0.5), (0.5, 1.0), (1.0, 2.0)]):
        for _ in range(50):
            assert low <= policy.delay(overloaded, attempt, rng) <= high
    assert policy.delay(RateLimited("slow", retry_after=3.0), 0) == 3.0
    assert policy.delay(RateLimited("slow", retry_after=600.0), 0) == 20.0  # Retry-After honoured up to the cap
    assert policy.should_retry(overloaded, 2, text_shown=False) and not policy.should_retry(overloaded, 3, text_shown=False)
    assert not policy.should_retry(overloaded, 0, text_shown=True)  # never repeat text the user has seen
    assert not policy.should_retry(AuthError("bad key"), 0, text_shown=False)


async def test_connection_refused_is_unavailable_with_a_useful_message() -> None:
    out = await run("openai", CLOSED_PORT_URL + "/v1")
    assert isinstance(out.error, ProviderUnavailable)
    assert "127.0.0.1:9" in out.error.message and "OPENAI_BASE_URL" in out.error.message


async def test_read_timeout_is_retryable_with_a_message() -> None:
    # httpx's own timeout exceptions have an empty str(); ours never do.
    with FakeOpenAI(replies=[Reply(200, chat_stream(["a"]), content_type="text/event-stream", hang=1.0)]) as server:
        out = await run("openai", server.base_url, read_timeout=0.2)
    assert isinstance(out.error, ProviderTimeout) and out.error.retryable and "read_timeout" in out.error.message


async def test_stall_mid_stream_times_out() -> None:
    with FakeOpenAI(replies=[Reply(200, chat_stream(["a", "b"]), content_type="text/event-stream", delay=0.6)]) as server:
        out = await run("openai", server.base_url, read_timeout=0.2)
    assert isinstance(out.error, ProviderTimeout)


async def test_a_server_echoing_the_key_never_gets_it_shown() -> None:
    echo = Reply.json({"error": {"message": f"Bad request for key {KEY} on model x", "type": "invalid_request_error"}}, 400)
    with FakeOpenAI(replies=[echo]) as server:
        out = await run("openai", server.base_url)
    assert isinstance(out.error, BadRequest)
    for shown in (out.error.message, str(out.error), repr(out.error), repr(out.error.args)):
        assert KEY not in shown
    assert "[redacted]" in out.error.message


async def test_non_json_error_bodies_and_gateways() -> None:
    html = Reply(502, [b"<html><body>Bad Gateway</body></html>"], content_type="text/html")
    with FakeOpenAI(replies=[html]) as server:
        out = await run("openai", server.base_url)
    assert isinstance(out.error, Overloaded) and "502" in out.error.message
    # A compatible server answering with the wrong content type is not silently accepted.
    with FakeOpenAI(replies=[Reply(200, [b"ok"], content_type="text/plain")]) as server:
        out = await run("openai", server.base_url)
    assert out.error is not None and out.error.message and out.error.retryable


async def test_truncated_event_is_connection_lost() -> None:
    body = chat_stream(["Hello"])
    cut = [b"".join(body)[: len(b"".join(body[:2])) + 10]]  # ends inside the third event
    with FakeOpenAI(replies=[Reply(200, cut, content_type="text/event-stream")]) as server:
        out = await run("openai", server.base_url)
    assert out.text == "Hello" and isinstance(out.error, ConnectionLost)
