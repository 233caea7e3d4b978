"""Cloud providers end to end: the engine's retry loop against loopback fakes, and `assistant ask --json` costs."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from assistant.core.errors import AssistantError, AuthError, Overloaded, RateLimited
from assistant.core.events import Failed, Finished, Notice
from assistant.core.types import ChatRequest, ModelRef
from assistant.engine.engine import Engine
from assistant.engine.retry import RetryPolicy
from tests.conftest import PYTHON, ROOT, cli_env
from tests.fakes import anthropic as fa
from tests.fakes import gemini as fg
from tests.fakes import openai as fo
from tests.fakes.cassettes import snapshot
from tests.fakes.cloud import KEY
from tests.fakes.server import FakeServer, Reply
from tests.helpers import collect, real_engine, settings, text_of

ENV = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY", "gemini": "GEMINI_API_KEY"}
FAKES = {"openai": fo.FakeOpenAI, "anthropic": fa.FakeAnthropic, "gemini": fg.FakeGemini}
SSE = "text/event-stream"


class RecordingPolicy:
    """The engine's real policy, remembering every wait it chose (and the error that led to it)."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        self.max_retries = policy.max_retries
        self.waits: list[tuple[str, float | None, float]] = []

    def should_retry(self, error: AssistantError, retries_done: int, text_shown: bool) -> bool:
        return self.policy.should_retry(error, retries_done, text_shown)

    def delay(self, error: AssistantError, retries_done: int) -> float:
        wait = self.policy.delay(error, retries_done)
        self.waits.append((error.kind, getattr(error, "retry_after", None), wait))
        return wait


def make(home: Path, provider: str, base_url: str, max_wait: float = 0.05, retries: int = 3) -> tuple[Engine, RecordingPolicy]:
    cfg = settings(**{provider: {"base_url": base_url}, "network": {
        "connect_timeout": 2.0, "read_timeout": 5.0, "max_retries": retries, "retry_max_wait": max_wait}})
    engine = real_engine(home, cfg, {ENV[provider]: KEY})
    engine.retry = RecordingPolicy(engine.retry)  # type: ignore[assignment]
    return engine, engine.retry  # type: ignore[return-value]


async def ask(engine: Engine, provider: str) -> list[Any]:
    model = engine.settings.providers[provider].model
    try:
        return await collect(engine, ChatRequest("Capital of France?", ModelRef(provider, model)))
    finally:
        await engine.aclose()


def base_of(server: FakeServer, provider: str) -> str:
    return server.url + ("/v1" if provider == "openai" else "")


async def test_429_with_retry_after_then_success(isolated_env: Path) -> None:
    limited = fo.error(429, "Rate limit reached. Please try again in 20s.", "rate_limit_exceeded", "requests", {"retry-after": "1"})
    ok = Reply(200, fo.chat_stream(["Paris", "."], prompt_tokens=9), content_type=SSE)
    with fo.FakeOpenAI(replies=[limited, ok]) as server:
        engine, policy = make(isolated_env, "openai", server.base_url)
        events = await ask(engine, "openai")
    answer = next(e for e in events if isinstance(e, Finished)).answer
    assert text_of(events) == "Paris." and len(server.seen) == 2
    # The header (1 s) wins over the body's hint (20 s), and the cap (retry_max_wait) bounds the wait.
    assert policy.waits == [("rate_limited", 1.0, 0.05)]
    assert [a.error_kind for a in answer.attempts] == ["rate_limited"]
    assert any(isinstance(e, Notice) and "Retrying" in e.text for e in events)


@pytest.mark.parametrize("provider,failure", [
    ("anthropic", fa.error(529, "overloaded_error", "Overloaded")),
    ("openai", fo.error(500, "The server had an error while processing your request.", "server_error", "server_error")),
    ("gemini", fg.error(503, "UNAVAILABLE", "The model is overloaded. Please try again later.")),
])
async def test_server_errors_are_retried_with_backoff(isolated_env: Path, provider: str, failure: Reply) -> None:
    with FAKES[provider](replies=[failure, failure, Reply(200, {"openai": fo.chat_stream, "anthropic": fa.message_stream,
                                                                "gemini": fg.content_stream}[provider](["Paris"]), content_type=SSE)]) as server:
        engine, policy = make(isolated_env, provider, base_of(server, provider))
        events = await ask(engine, provider)
    assert text_of(events) == "Paris" and len(server.seen) == 3
    assert [kind for kind, _, _ in policy.waits] == ["overloaded", "overloaded"]
    # Equal jitter under the cap: each wait is between half the backoff and the backoff itself.
    assert all(0.025 <= wait <= 0.05 for _, _, wait in policy.waits)


async def test_mid_stream_overloaded_before_text_is_retried(isolated_env: Path) -> None:
    broken = Reply(200, fa.message_stream([], stop=False)[:1] + [fa.error_event()], content_type=SSE)
    with fa.FakeAnthropic(replies=[broken, Reply(200, fa.message_stream(["Paris"]), content_type=SSE)]) as server:
        engine, policy = make(isolated_env, "anthropic", server.url)
        events = await ask(engine, "anthropic")
    assert text_of(events) == "Paris" and [k for k, _, _ in policy.waits] == ["overloaded"]


async def test_after_text_is_shown_nothing_is_retried(isolated_env: Path) -> None:
    broken = Reply(200, fa.message_stream(["Par"], stop=False)[:4] + [fa.error_event()], content_type=SSE)
    with fa.FakeAnthropic(replies=[broken, Reply(200, fa.message_stream(["Paris"]), content_type=SSE)]) as server:
        engine, policy = make(isolated_env, "anthropic", server.url)
        events = await ask(engine, "anthropic")
    failed = next(e for e in events if isinstance(e, Failed))
    assert isinstance(failed.error, Overloaded) and text_of(events) == "Par"  # never "ParParis"
    assert len(server.seen) == 1 and policy.waits == []


async def test_recorded_429_429_200_through_the_engine(isolated_env: Path, fixtures_dir: Path) -> None:
    name = "anthropic/anthropic-sdk-python/recorded-snapshots/test_messages__TestAsyncStream__a8b7dbb8-2321-4624-abdb-7ba2136b5c38.json"
    replies = [r.reply() for r in snapshot(fixtures_dir / name)]
    with FakeServer({("POST", fa.PATH): replies}) as server:
        engine, policy = make(isolated_env, "anthropic", server.url)
        events = await ask(engine, "anthropic")
    answer = next(e for e in events if isinstance(e, Finished)).answer
    assert answer.text == "[12345,67890]" and (answer.usage.input_tokens, answer.usage.output_tokens) == (135, 10)
    assert [(k, ra) for k, ra, _ in policy.waits] == [("rate_limited", None), ("rate_limited", None)]
    assert answer.cost_usd == pytest.approx(135 * 1e-6 + 10 * 5e-6)


async def test_auth_errors_fail_at_once(isolated_env: Path) -> None:
    with fo.FakeOpenAI(replies=[fo.error(401, "Incorrect API key provided", "invalid_api_key")]) as server:
        engine, policy = make(isolated_env, "openai", server.base_url)
        events = await ask(engine, "openai")
    failed = next(e for e in events if isinstance(e, Failed))
    assert isinstance(failed.error, AuthError) and len(server.seen) == 1 and policy.waits == []


async def test_retries_are_bounded(isolated_env: Path) -> None:
    with fa.FakeAnthropic(replies=[fa.error(429, "rate_limit_error", "slow down", {"retry-after": "0.01"})]) as server:
        engine, policy = make(isolated_env, "anthropic", server.url, retries=2)
        events = await ask(engine, "anthropic")
    failed = next(e for e in events if isinstance(e, Failed))
    assert isinstance(failed.error, RateLimited) and len(server.seen) == 3
    assert [wait for _, _, wait in policy.waits] == [0.01, 0.01]


def _prices() -> dict[str, dict[str, float]]:
    return json.loads((ROOT / "assets" / "prices.json").read_text())["models"]


@pytest.mark.parametrize("provider,model,usage", [
    ("openai", "gpt-4o-mini", (21, 3)),
    ("anthropic", "claude-haiku-4-5", (17, 3)),
    ("gemini", "gemini-2.5-flash", (11, 3)),
])
def test_ask_json_reports_exact_usage_and_cost(isolated_env: Path, provider: str, model: str, usage: tuple[int, int]) -> None:
    pieces = ["Paris", " is the", " capital."]
    stream = {"openai": lambda: fo.chat_stream(pieces, prompt_tokens=usage[0], completion_tokens=usage[1]),
              "anthropic": lambda: fa.message_stream(pieces, input_tokens=usage[0], output_tokens=usage[1]),
              "gemini": lambda: fg.content_stream(pieces, prompt_tokens=usage[0], output_tokens=usage[1])}[provider]()
    with FAKES[provider](replies=[Reply(200, stream, content_type=SSE)]) as server:
        env = cli_env(isolated_env, **{ENV[provider]: KEY, f"{provider.upper()}_BASE_URL": base_of(server, provider)})
        done = subprocess.run([PYTHON, "-m", "assistant", "ask", "-m", f"{provider}:{model}", "--json", "Capital of France?"],
                              env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    price = _prices()[f"{provider}:{model}"]
    assert (result["text"], result["provider"], result["model"]) == ("Paris is the capital.", provider, model)
    assert (result["input_tokens"], result["output_tokens"], result["cost_estimated"]) == (*usage, False)
    assert result["cost_usd"] == round(usage[0] * price["input_per_token"] + usage[1] * price["output_per_token"], 8)
    assert KEY not in done.stdout + done.stderr


def test_ask_without_a_key_says_how_to_set_it(isolated_env: Path) -> None:
    done = subprocess.run([PYTHON, "-m", "assistant", "ask", "-m", "anthropic:claude-haiku-4-5", "Hi"],
                          env=cli_env(isolated_env), capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "assistant keys set anthropic" in done.stderr and "ANTHROPIC_API_KEY" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
