"""The engine against scripted providers: events, persistence, fallback, cancel and crash recovery."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from assistant.core.errors import ConnectionLost, ProviderUnavailable, UsageError
from assistant.core.events import Failed, Finished, Notice, Started, TextDelta
from assistant.core.types import ChatRequest, ModelRef, Usage
from tests.helpers import ScriptedProvider, collect, finished, make_engine, text_of


def local_pair(ollama_up: bool = True) -> list[ScriptedProvider]:
    return [
        ScriptedProvider("ollama", [["Paris", " is", " the capital.", Usage(20, 3)]], available=ollama_up, model="llama3.2:latest"),
        ScriptedProvider("embedded", [["Par", "is.", Usage(15, 2)]], model="smollm2"),
    ]


async def test_events_and_records(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, local_pair())
    events = await collect(engine, ChatRequest("What is the capital of France?"))
    assert isinstance(events[0], Started) and events[0].ref == ModelRef("ollama", "llama3.2:latest")
    assert text_of(events) == "Paris is the capital."
    answer = finished(events).answer
    assert (answer.provider, answer.usage.input_tokens, answer.usage.output_tokens, answer.cost_usd) == ("ollama", 20, 3, 0.0)
    assert answer.saved_usd > 0  # a local answer is credited with what the baseline would have charged
    msgs = engine.history.messages(answer.conversation_id)
    assert [(m.role, m.content, m.status) for m in msgs] == [
        ("user", "What is the capital of France?", "complete"), ("assistant", "Paris is the capital.", "complete")]
    calls = engine.conn.execute("SELECT provider, outcome, input_tokens, output_tokens, cached FROM calls").fetchall()
    assert calls == [("ollama", "ok", 20, 3, 0)]
    assert engine.conn.execute("SELECT count(*) FROM message_chunks").fetchone()[0] == 0


async def test_ollama_down_falls_to_embedded_with_calm_notice(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, local_pair(ollama_up=False))
    events = await collect(engine, ChatRequest("hi"))
    notices = [e.text for e in events if isinstance(e, Notice)]
    assert notices and "ollama is down" in notices[0] and "embedded:smollm2" in notices[0]
    assert finished(events).answer.provider == "embedded"


async def test_fallback_after_failure_records_each_attempt(tmp_path: Path) -> None:
    ollama = ScriptedProvider("ollama", [ProviderUnavailable("Ollama is not running", provider="ollama")], model="llama3.2:latest")
    engine = make_engine(tmp_path, [ollama, ScriptedProvider("embedded", [["ok", Usage(1, 1)]], model="smollm2")])
    events = await collect(engine, ChatRequest("hi"))
    assert any(isinstance(e, Notice) and "Ollama is not running" in e.text for e in events)
    answer = finished(events).answer
    assert answer.provider == "embedded" and [a.error_kind for a in answer.attempts] == ["unavailable"]
    rows = engine.conn.execute("SELECT provider, outcome, error_kind FROM calls ORDER BY id").fetchall()
    assert rows == [("ollama", "error", "unavailable"), ("embedded", "ok", None)]


async def test_named_model_never_falls_back(tmp_path: Path) -> None:
    ollama = ScriptedProvider("ollama", [ProviderUnavailable("Ollama is not running", provider="ollama")])
    engine = make_engine(tmp_path, [ollama, ScriptedProvider("embedded", [["ok"]])])
    events = await collect(engine, ChatRequest("hi", model=ModelRef("ollama", "llama3.2")))
    assert isinstance(events[-1], Failed) and "Ollama is not running" in events[-1].error.message
    # the question is kept even though nothing answered
    cid = events[-1].conversation_id
    assert [m.content for m in engine.history.messages(cid)] == ["hi"]


async def test_empty_prompt_is_a_usage_error(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, local_pair())
    events = await collect(engine, ChatRequest("   "))
    assert isinstance(events[-1], Failed) and isinstance(events[-1].error, UsageError)


async def test_continue_sends_history_and_system(tmp_path: Path) -> None:
    providers = local_pair()
    engine = make_engine(tmp_path, providers)
    first = finished(await collect(engine, ChatRequest("one", system="be brief"))).answer
    await collect(engine, ChatRequest("two", conversation_id=first.conversation_id))
    sent = providers[0].requests[-1]
    assert [(m.role, m.content) for m in sent.messages] == [
        ("system", "be brief"), ("user", "one"), ("assistant", "Paris is the capital."), ("user", "two")]


async def test_cut_stream_keeps_partial_marked_interrupted(tmp_path: Path) -> None:
    cut = ScriptedProvider("ollama", [["Half an ", ConnectionLost("dropped", provider="ollama")]], model="llama3.2:latest")
    engine = make_engine(tmp_path, [cut, ScriptedProvider("embedded", [["other"]])])
    events = await collect(engine, ChatRequest("tell me"))
    assert isinstance(events[-1], Failed)
    assert text_of(events) == "Half an "  # no fallback after text was shown: nothing shown twice
    msgs = engine.history.messages(events[-1].conversation_id)
    assert (msgs[-1].content, msgs[-1].status) == ("Half an ", "interrupted")
    assert engine.conn.execute("SELECT count(*) FROM response_cache").fetchone()[0] == 0


async def test_cancel_keeps_partial_text(tmp_path: Path) -> None:
    slow = ScriptedProvider("ollama", [["a", "b", "c", "d", "e", "f"]], delay=0.05, model="llama3.2:latest")
    engine = make_engine(tmp_path, [slow, ScriptedProvider("embedded", [["x"]])])
    got: list[str] = []

    async def consume() -> None:
        async for event in engine.chat(ChatRequest("go")):
            if isinstance(event, TextDelta):
                got.append(event.text)

    task = asyncio.create_task(consume())
    while len(got) < 2:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    row = engine.conn.execute("SELECT content, status FROM messages WHERE role = 'assistant'").fetchone()
    assert row[1] == "interrupted" and row[0] == "".join(got)
    outcome = engine.conn.execute("SELECT outcome FROM calls").fetchone()[0]
    assert outcome == "interrupted"


async def test_no_model_at_all_says_what_to_do(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, [ScriptedProvider("ollama", [["x"]], available=False),
                                    ScriptedProvider("embedded", [["x"]], available=False)])
    events = await collect(engine, ChatRequest("hi", local_only=True))
    assert isinstance(events[-1], Failed)
    message = events[-1].error.message
    # Every model is named with what stops it (each provider's own reason says how to fix it).
    assert "No model can answer" in message and "ollama is down" in message and "embedded is down" in message


async def test_a_history_write_that_fails_is_not_blamed_on_the_provider(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlite3

    from assistant.storage.history import History

    engine = make_engine(tmp_path, local_pair())

    def full(self: History, *args: object, **kwargs: object) -> int:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(History, "start_answer", full)
    events = await collect(engine, ChatRequest("hi"))
    # The answer is shown as it streams (text is never held back for SQLite), then one line about the disk.
    finished = events[-1]
    assert isinstance(finished, Finished) and finished.answer.text == "Paris is the capital."
    notices = [e.text for e in events if isinstance(e, Notice)]
    assert len(notices) == 1 and "disk is full" in notices[0] and "ollama" not in notices[0].lower()
    assert not engine.health.resting("ollama") and engine.health.state("ollama").failures == 0
    # The question itself was kept, and the provider is not on record as failing.
    assert [m.role for m in engine.history.messages(finished.answer.conversation_id)] == ["user"]
    assert engine.conn.execute("SELECT count(*) FROM calls WHERE outcome = 'error'").fetchone()[0] == 0
