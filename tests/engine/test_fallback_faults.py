"""Fault injection on loopback fakes: who answered, what the user was told, what was recorded and billed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from assistant.core.config import Settings
from assistant.core.errors import BudgetExceeded
from assistant.core.events import Event, Failed, Notice, TextDelta
from assistant.core.records import CallRecord
from assistant.core.types import ChatRequest, Usage
from assistant.engine.accounting import estimate_tokens
from assistant.engine.engine import Engine
from tests.conftest import CLOSED_PORT_URL
from tests.fakes import anthropic as fa
from tests.fakes import openai as fo
from tests.fakes.ollama import FakeOllama
from tests.fakes.server import FakeServer, Reply
from tests.helpers import ScriptedProvider, collect, finished, real_engine, settings, text_of

KEYS = {"OPENAI_API_KEY": "sk-test-openai-0000", "ANTHROPIC_API_KEY": "sk-ant-test-0000"}
MINI_IN, MINI_OUT = 0.15e-6, 0.6e-6  # openai:gpt-4o-mini in assets/prices.json
GPT4O_IN, GPT4O_OUT = 2.5e-6, 10e-6


def make(home: Path, *, ollama: str = CLOSED_PORT_URL, openai: str = CLOSED_PORT_URL, anthropic: str = CLOSED_PORT_URL,
         embedded: ScriptedProvider | None = None, general: dict | None = None, openai_model: str = "gpt-4o-mini",
         read_timeout: float = 5.0, ollama_probe: float = 0.25) -> Engine:
    cfg: Settings = settings(
        general=general or {},
        ollama={"host": ollama, "probe_timeout": ollama_probe},
        openai={"base_url": openai + "/v1", "model": openai_model},
        anthropic={"base_url": anthropic},
        gemini={"model": ""},
        network={"max_retries": 1, "retry_max_wait": 0.01, "read_timeout": read_timeout, "connect_timeout": 1.0},
    )
    return real_engine(home, cfg, KEYS, [embedded or ScriptedProvider("embedded", [[]], available=False, model="smollm2")])


def notices(events: list[Event]) -> list[str]:
    return [e.text for e in events if isinstance(e, Notice)]


def calls(engine: Engine) -> list[tuple]:
    """The calls rows, read through a connection of its own (the engine may be closed)."""
    with sqlite3.connect(str(engine.db.path)) as conn:
        return conn.execute("SELECT provider, outcome, error_kind, cost_usd FROM calls ORDER BY id").fetchall()


async def test_ollama_down_goes_to_cheapest_cloud(tmp_path: Path) -> None:
    with fo.FakeOpenAI(["Paris", "."]) as cloud:
        engine = make(tmp_path, openai=cloud.url)
        events = await collect(engine, ChatRequest("Capital of France?"))
        await engine.aclose()
    answer = finished(events).answer
    assert (answer.provider, answer.model, text_of(events)) == ("openai", "gpt-4o-mini", "Paris.")
    assert any("Ollama is not running" in n and "openai:gpt-4o-mini" in n for n in notices(events))
    assert answer.route_reason.startswith("Ollama is not running at ") and answer.route_reason.endswith(
        " - answered by openai:gpt-4o-mini")
    assert answer.attempts == () and answer.cost_usd == pytest.approx(12 * MINI_IN + 2 * MINI_OUT)
    assert not answer.cost_estimated and answer.saved_usd == 0.0  # the baseline itself answered
    assert calls(engine) == [("openai", "ok", None, pytest.approx(answer.cost_usd))]


async def test_429_then_success_bills_once(tmp_path: Path) -> None:
    replies = [fo.error(429, "Rate limit reached", "rate_limit_exceeded", headers={"retry-after": "0"}),
               Reply(200, fo.chat_stream(["Four", "."], prompt_tokens=20), content_type="text/event-stream")]
    with fo.FakeOpenAI(replies=replies) as cloud:
        engine = make(tmp_path, openai=cloud.url)
        events = await collect(engine, ChatRequest("2+2?"))
        await engine.aclose()
    answer = finished(events).answer
    assert answer.provider == "openai" and text_of(events) == "Four."  # shown once, not twice
    assert any("Retrying" in n for n in notices(events))
    assert [(a.ref.provider, a.error_kind) for a in answer.attempts] == [("openai", "rate_limited")]
    assert answer.route_reason.endswith("(after 1 retry)") and "answered by" not in answer.route_reason
    assert calls(engine) == [("openai", "error", "rate_limited", 0.0), ("openai", "ok", None, pytest.approx(answer.cost_usd))]
    assert answer.cost_usd == pytest.approx(20 * MINI_IN + 2 * MINI_OUT)
    assert engine.health.state("openai").failures == 0


async def test_529_overloaded_falls_back_and_rests_the_provider(tmp_path: Path) -> None:
    overloaded = fa.error(529, "overloaded_error", "Overloaded")
    with fa.FakeAnthropic(replies=[overloaded]) as claude, fo.FakeOpenAI(["Yes", "."]) as cloud:
        # gpt-4o costs more than claude-haiku-4-5, so local-first tries Anthropic first.
        engine = make(tmp_path, openai=cloud.url, anthropic=claude.url, openai_model="gpt-4o")
        events = await collect(engine, ChatRequest("Is it up?"))
        answer = finished(events).answer
        assert answer.provider == "openai" and answer.model == "gpt-4o"
        assert any("anthropic:claude-haiku-4-5 failed" in n and "trying openai:gpt-4o" in n for n in notices(events))
        assert answer.route_reason.startswith("anthropic:claude-haiku-4-5 failed (Anthropic")
        assert [a.error_kind for a in answer.attempts] == ["overloaded", "overloaded"]  # one retry, then fall back
        assert calls(engine)[:2] == [("anthropic", "error", "overloaded", 0.0)] * 2
        assert answer.cost_usd == pytest.approx(12 * GPT4O_IN + 2 * GPT4O_OUT)
        assert answer.saved_usd == 0.0  # dearer than the baseline (claude-haiku-4-5): no savings claimed
        # A third failure opens the breaker; while it rests, Anthropic is not even contacted.
        await collect(engine, ChatRequest("Again?"))
        seen = len(claude.seen)
        later = await collect(engine, ChatRequest("And again?"))
        await engine.aclose()
    assert len(claude.seen) == seen and finished(later).answer.provider == "openai"
    assert engine.health.resting("anthropic")


async def test_ollama_hang_past_timeout_falls_back_to_embedded(tmp_path: Path) -> None:
    embedded = ScriptedProvider("embedded", [["Hello", Usage(8, 1)]], model="smollm2")
    with FakeOllama() as server:
        server.routes[("POST", "/api/chat")] = Reply(hang=2.0)
        engine = make(tmp_path, ollama=server.url, embedded=embedded, read_timeout=0.3)
        events = await collect(engine, ChatRequest("Hi"))
        await engine.aclose()
    answer = finished(events).answer
    assert (answer.provider, text_of(events)) == ("embedded", "Hello")
    assert [(a.ref.provider, a.error_kind) for a in answer.attempts] == [("ollama", "timeout")] * 2
    assert any("did not answer in time" in n and "trying embedded:smollm2" in n for n in notices(events))
    assert [c[:3] for c in calls(engine)] == [("ollama", "error", "timeout")] * 2 + [("embedded", "ok", None)]
    assert answer.cost_usd == 0.0 and answer.saved_usd == pytest.approx(8 * MINI_IN + 1 * MINI_OUT)


async def test_stream_cut_keeps_partial_text_never_repeats_it(tmp_path: Path) -> None:
    cut = Reply(200, fo.chat_stream(["Once", " upon", " a", " time"]), content_type="text/event-stream", cut_after=3)
    with fo.FakeOpenAI(replies=[cut]) as cloud:
        engine = make(tmp_path, openai=cloud.url)
        events = await collect(engine, ChatRequest("Tell a story"))
        await engine.aclose()
    assert isinstance(events[-1], Failed) and events[-1].error.kind == "connection"
    assert text_of(events) == "Once upon"  # no retry and no fallback once text was shown
    assert len(cloud.seen) == 1
    (row,) = engine.conn.execute("SELECT provider, outcome, error_kind, cost_usd, cost_estimated, output_tokens FROM calls")
    assert row[:3] == ("openai", "error", "connection")
    # What was streamed was billed by the provider: recorded once, as an estimate.
    assert row[3] > 0 and row[4] == 1 and row[5] == estimate_tokens(len("Once upon"))
    msg = engine.conn.execute("SELECT content, status FROM messages WHERE role = 'assistant'").fetchone()
    assert msg == ("Once upon", "interrupted")


async def test_missing_usage_is_estimated_and_marked(tmp_path: Path) -> None:
    reply = Reply(200, fo.chat_stream(["A" * 40], usage=False), content_type="text/event-stream")
    with fo.FakeOpenAI(replies=[reply]) as cloud:
        engine = make(tmp_path, openai=cloud.url)
        answer = finished(await collect(engine, ChatRequest("Say A forty times"))).answer
        await engine.aclose()
    assert answer.cost_estimated and answer.usage.estimated and answer.usage.output_tokens == 10
    assert answer.cost_usd == pytest.approx(answer.usage.input_tokens * MINI_IN + 10 * MINI_OUT)


async def test_local_only_never_contacts_the_cloud(tmp_path: Path) -> None:
    with fo.FakeOpenAI() as cloud:
        engine = make(tmp_path, openai=cloud.url, general={"local_only": True})
        events = await collect(engine, ChatRequest("Hi"))
        named = await collect(engine, ChatRequest("Hi", model=engine.parse_model("openai:gpt-4o-mini")))
        await engine.aclose()
    assert cloud.seen == []
    assert isinstance(events[-1], Failed) and "No model can answer" in events[-1].error.message
    assert isinstance(named[-1], Failed) and "local-only mode is on" in named[-1].error.message


async def test_budget_refuses_cloud_but_local_still_answers(tmp_path: Path) -> None:
    embedded = ScriptedProvider("embedded", [["Local", Usage(5, 1)]], model="smollm2")
    with fo.FakeOpenAI() as cloud:
        engine = make(tmp_path, openai=cloud.url, embedded=embedded,
                      general={"monthly_budget_usd": 0.01, "policy": "cheapest"})
        engine.calls.record(CallRecord("old", None, None, "openai", "gpt-4o-mini", "ok", cost_usd=0.01))
        events = await collect(engine, ChatRequest("Hi"))
        assert finished(events).answer.provider == "embedded"
        assert any("monthly budget used up" in n for n in notices(events))
        embedded.available = False
        refused = await collect(engine, ChatRequest("Hi again"))
        await engine.aclose()
    assert cloud.seen == []
    assert isinstance(refused[-1], Failed) and isinstance(refused[-1].error, BudgetExceeded)
    assert "general.monthly_budget_usd" in refused[-1].error.message
    assert not any(isinstance(e, TextDelta) for e in refused)
    # The refusal is kept as a request that got no answer, billed nothing, and does not count against a provider.
    last = engine.conn.execute("SELECT outcome, error_kind, cost_usd FROM calls ORDER BY id DESC LIMIT 1").fetchone()
    assert last == ("refused", "budget", 0.0) and not engine.health.resting("openai")


async def test_hung_ollama_probe_is_paid_once_then_rested(tmp_path: Path) -> None:
    embedded = ScriptedProvider("embedded", [["Hi", Usage(3, 1)]], model="smollm2")
    with FakeServer({("GET", "/api/tags"): Reply(hang=3.0)}) as hung:
        engine = make(tmp_path, ollama=hung.url, embedded=embedded, ollama_probe=0.1)
        first = finished(await collect(engine, ChatRequest("one"))).answer
        assert first.provider == "embedded"
        rows = engine.conn.execute("SELECT provider, outcome, error_kind FROM calls ORDER BY id").fetchall()
        assert rows == [("ollama", "error", "probe_timeout"), ("embedded", "ok", None)]
        await engine.aclose()
        # A new process on the same database (the next `assistant ask`) rests Ollama without probing it.
        seen = len(hung.seen)
        again = make(tmp_path, ollama=hung.url, embedded=embedded)
        events = await collect(again, ChatRequest("two"))
        await again.aclose()
    assert len(hung.seen) == seen and finished(events).answer.provider == "embedded"
    assert any("ollama failed recently" in n and "resting it" in n for n in notices(events))


async def test_fastest_uses_measured_first_token_history(tmp_path: Path) -> None:
    ollama = ScriptedProvider("ollama", [["slow", Usage(1, 1)]], model="llama3.2:latest")
    embedded = ScriptedProvider("embedded", [["quick", Usage(1, 1)]], model="smollm2")
    engine = make(tmp_path, embedded=embedded, general={"policy": "fastest"})
    engine.registry.register(ollama.spec, ollama)
    for provider, model, ttft in [("ollama", "llama3.2:latest", 500.0), ("embedded", "smollm2", 40.0),
                                  ("embedded", "smollm2", 60.0), ("embedded", "smollm2", 50.0)]:
        engine.calls.record(CallRecord("h", None, None, provider, model, "ok", ttft_ms=ttft, total_ms=ttft * 2))
    answer = finished(await collect(engine, ChatRequest("Hi", local_only=True))).answer
    await engine.aclose()
    assert answer.provider == "embedded" and answer.route_reason == "embedded:smollm2 - local (first token p50 50 ms), fastest"
