"""The engine and the response cache: free instant repeats, misses for anything different, nothing partial stored."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from assistant.core.errors import ConnectionLost, RateLimited
from assistant.core.events import Failed, Started, TextDelta
from assistant.core.types import ChatRequest, GenerationSettings, ModelRef, Usage
from assistant.engine.engine import Engine
from tests.helpers import ScriptedProvider, collect, finished, make_engine, real_engine, settings, text_of

GPT = ModelRef("openai", "gpt-4o-mini")
KEYS = {"OPENAI_API_KEY": "sk-test", "ANTHROPIC_API_KEY": "sk-ant-test"}


def cloud(name: str = "openai", scripts: list | None = None, **kw: object) -> ScriptedProvider:
    return ScriptedProvider(name, scripts or [["Paris", " is the capital.", Usage(1000, 500)]], local=False, **kw)  # type: ignore[arg-type]


def entries(engine: Engine) -> int:
    """Entries in the engine's database file (read through a connection of its own: the engine may be closed)."""
    with sqlite3.connect(str(engine.db.path)) as conn:
        return int(conn.execute("SELECT count(*) FROM response_cache").fetchone()[0])


async def test_repeat_is_cached_free_and_saves_what_the_first_cost(tmp_path: Path) -> None:
    openai = cloud()
    engine = make_engine(tmp_path, [openai], environ=KEYS)
    first = finished(await collect(engine, ChatRequest("capital of France?", model=GPT))).answer
    events = await collect(engine, ChatRequest("capital of France?", model=GPT))
    second = finished(events).answer
    assert first.cost_usd > 0 and not first.cached
    assert second.cached and second.cost_usd == 0 and second.saved_usd == pytest.approx(first.cost_usd)
    assert second.text == first.text == "Paris is the capital."
    assert isinstance(events[0], Started) and events[0].cached
    assert [e.text for e in events if isinstance(e, TextDelta)] == [first.text]  # whole, at once
    assert len(openai.requests) == 1  # no request reached the provider
    rows = engine.conn.execute("SELECT cached, cost_usd, saved_source, cache_eligible FROM calls ORDER BY id").fetchall()
    assert rows[1][:3] == (1, 0.0, "cache") and rows[0][3] == 1


async def test_local_hit_saves_the_baseline_price(tmp_path: Path) -> None:
    ollama = ScriptedProvider("ollama", [["Bonjour", Usage(200, 100)]], model="llama3.2:latest")
    engine = make_engine(tmp_path, [ollama, ScriptedProvider("embedded", [["x"]])])
    ref = ModelRef("ollama", "llama3.2")
    first = finished(await collect(engine, ChatRequest("hi", model=ref))).answer
    second = finished(await collect(engine, ChatRequest("hi", model=ref))).answer
    baseline = engine.accountant.baseline_cost(Usage(200, 100))
    assert first.cost_usd == 0 and second.cached and second.saved_usd == pytest.approx(baseline) and baseline > 0
    assert len(ollama.requests) == 1


async def test_anything_different_is_a_miss(tmp_path: Path) -> None:
    openai, anthropic = cloud(), cloud("anthropic")
    engine = make_engine(tmp_path, [openai, anthropic], environ=KEYS)
    base = ChatRequest("q", model=GPT, system="s", settings=GenerationSettings(0.5, 100))
    first = finished(await collect(engine, base)).answer
    variants = [
        ChatRequest("q", model=ModelRef("openai", "gpt-4o"), system="s", settings=base.settings),
        ChatRequest("q", model=GPT, system="other", settings=base.settings),
        ChatRequest("q", model=GPT, system="s", settings=GenerationSettings(0.6, 100)),
        ChatRequest("q", model=GPT, system="s", settings=GenerationSettings(0.5, 99)),
        ChatRequest("q", model=ModelRef("anthropic", "gpt-4o-mini"), system="s", settings=base.settings),
        ChatRequest("Q", model=GPT, system="s", settings=base.settings),
    ]
    for request in variants:
        assert not finished(await collect(engine, request)).answer.cached, request
    # an earlier message differs: the same question continuing a conversation
    follow = ChatRequest("q", model=GPT, system="s", settings=base.settings, conversation_id=first.conversation_id)
    assert not finished(await collect(engine, follow)).answer.cached
    assert len(openai.requests) + len(anthropic.requests) == 1 + len(variants) + 1
    # and the original still hits
    assert finished(await collect(engine, base)).answer.cached


async def test_no_cache_skips_the_lookup_stores_and_replaces(tmp_path: Path) -> None:
    openai = cloud(scripts=[["old", Usage(10, 1)], ["new", Usage(10, 1)]])
    engine = make_engine(tmp_path, [openai], environ=KEYS)
    finished(await collect(engine, ChatRequest("q", model=GPT)))
    fresh = finished(await collect(engine, ChatRequest("q", model=GPT, use_cache=False))).answer
    assert not fresh.cached and fresh.text == "new" and len(openai.requests) == 2
    again = finished(await collect(engine, ChatRequest("q", model=GPT))).answer
    assert again.cached and again.text == "new" and entries(engine) == 1
    eligible = engine.conn.execute("SELECT cache_eligible FROM calls WHERE cached = 0 ORDER BY id").fetchall()
    assert eligible == [(1,), (None,)]  # --no-cache is not a miss


async def test_regenerate_replaces_the_entry(tmp_path: Path) -> None:
    openai = cloud(scripts=[["first", Usage(10, 1)], ["second", Usage(10, 1)]])
    engine = make_engine(tmp_path, [openai], environ=KEYS)
    one = finished(await collect(engine, ChatRequest("q", model=GPT))).answer
    regen = finished(await collect(engine, ChatRequest("", model=GPT, conversation_id=one.conversation_id, regenerate=True))).answer
    assert regen.text == "second" and not regen.cached
    assert finished(await collect(engine, ChatRequest("q", model=GPT))).answer.text == "second"


async def test_a_stream_cut_halfway_is_not_cached(tmp_path: Path) -> None:
    cut = cloud(scripts=[["Half an ", ConnectionLost("dropped", provider="openai")], ["Whole answer.", Usage(5, 2)]])
    engine = make_engine(tmp_path, [cut], environ=KEYS)
    events = await collect(engine, ChatRequest("tell me", model=GPT))
    assert isinstance(events[-1], Failed) and text_of(events) == "Half an " and entries(engine) == 0
    again = finished(await collect(engine, ChatRequest("tell me", model=GPT))).answer
    assert not again.cached and again.text == "Whole answer." and entries(engine) == 1


async def test_a_cancelled_answer_is_not_cached(tmp_path: Path) -> None:
    slow = cloud(scripts=[["a", "b", "c", "d", "e", Usage(5, 5)]], delay=0.02)
    engine = make_engine(tmp_path, [slow], environ=KEYS)
    task = asyncio.create_task(collect(engine, ChatRequest("go", model=GPT)))
    while not engine.conn.execute("SELECT 1 FROM messages WHERE status = 'streaming'").fetchone():
        await asyncio.sleep(0.005)
    task.cancel()  # mid-stream: some text has arrived, the rest has not
    with pytest.raises(asyncio.CancelledError):
        await task
    assert entries(engine) == 0
    # a reader that stops after some text, or after the last text but before Finished, stores nothing either
    for stop_at in ("b", "e"):
        events = engine.chat(ChatRequest("go", model=GPT))
        async for event in events:
            if isinstance(event, TextDelta) and event.text == stop_at:
                break
        await events.aclose()
        assert entries(engine) == 0
    statuses = engine.conn.execute("SELECT outcome FROM calls").fetchall()
    assert statuses == [("interrupted",)] * 3


async def test_failures_and_empty_answers_are_not_cached(tmp_path: Path) -> None:
    flaky = cloud(scripts=[RateLimited("slow down", provider="openai"), [Usage(5, 0)], ["ok", Usage(5, 1)]])
    cfg = settings(network={"max_retries": 0})
    engine = make_engine(tmp_path, [flaky], cfg, environ=KEYS)
    assert isinstance((await collect(engine, ChatRequest("q", model=GPT)))[-1], Failed)
    assert finished(await collect(engine, ChatRequest("q", model=GPT))).answer.text == ""
    assert entries(engine) == 0
    assert finished(await collect(engine, ChatRequest("q", model=GPT))).answer.text == "ok"
    assert finished(await collect(engine, ChatRequest("q", model=GPT))).answer.cached


async def test_cache_disabled_neither_reads_nor_writes(tmp_path: Path) -> None:
    openai = cloud()
    engine = make_engine(tmp_path, [openai], settings(cache={"enabled": False}), environ=KEYS)
    for _ in range(2):
        assert not finished(await collect(engine, ChatRequest("q", model=GPT))).answer.cached
    assert entries(engine) == 0 and len(openai.requests) == 2


async def test_unnamed_model_hits_whichever_candidate_answered(tmp_path: Path) -> None:
    ollama = ScriptedProvider("ollama", [["x"]], available=False, model="llama3.2:latest")
    embedded = ScriptedProvider("embedded", [["small answer", Usage(3, 2)]], model="smollm2")
    engine = make_engine(tmp_path, [ollama, embedded])
    assert finished(await collect(engine, ChatRequest("hi"))).answer.provider == "embedded"
    hit = finished(await collect(engine, ChatRequest("hi"))).answer
    assert hit.cached and hit.provider == "embedded" and len(embedded.requests) == 1


async def test_an_ollama_stream_dropped_on_the_wire_is_not_cached(tmp_path: Path) -> None:
    """The real Ollama provider against a loopback server that hangs up after two NDJSON lines."""
    from tests.fakes.ollama import chat_stream, tags
    from tests.fakes.server import FakeServer, Reply

    lines = chat_stream("llama3.2:latest", ["Paris", " is the", " capital."])
    cut = Reply(200, lines, content_type="application/x-ndjson", cut_after=2)
    whole = Reply(200, lines, content_type="application/x-ndjson")
    with FakeServer({("GET", "/api/tags"): tags(["llama3.2:latest"]), ("POST", "/api/chat"): [cut, whole]}) as server:
        cfg = settings(ollama={"host": server.url}, network={"max_retries": 0})
        engine = real_engine(tmp_path, cfg)
        ref = ModelRef("ollama", "llama3.2")
        try:
            events = await collect(engine, ChatRequest("capital?", model=ref))
            assert isinstance(events[-1], Failed) and text_of(events) == "Paris is the" and entries(engine) == 0
            assert not finished(await collect(engine, ChatRequest("capital?", model=ref))).answer.cached
            assert finished(await collect(engine, ChatRequest("capital?", model=ref))).answer.cached
        finally:
            await engine.aclose()
    chats = [s for s in server.seen if s.path == "/api/chat"]
    assert len(chats) == 2 and entries(engine) == 1
