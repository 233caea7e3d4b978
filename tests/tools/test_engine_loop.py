"""The model-turn loop end to end: each provider's real class asks its loopback fake, which asks for tool calls in
that provider's own format; the real MCP test server runs them; the results go back in the same format."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from assistant.core.events import Finished, Notice, ToolCallFinished, ToolCallRequested, ToolCallStarted
from assistant.storage.history import History
from tests.fakes import anthropic as fa
from tests.fakes import gemini as fg
from tests.fakes import ollama as fo
from tests.fakes import openai as foa
from tests.fakes.server import FakeServer
from tests.helpers import finished, text_of
from tests.tools.conftest import stdio_server
from tests.tools.engine_helpers import ask, converse, ndjson, sse, tool_engine


def _openai(calls: list[tuple[str, dict[str, Any]]]) -> FakeServer:
    return foa.FakeOpenAI(replies=[sse(foa.tool_calls_stream([(f"call_{n}", name, args) for n, (name, args) in
                                                              enumerate(calls)])),
                                   sse(foa.chat_stream(["The sum", " is 5."]))])


def _anthropic(calls: list[tuple[str, dict[str, Any]]]) -> FakeServer:
    return fa.FakeAnthropic(replies=[sse(fa.tool_use_stream([(f"toolu_{n}", name, args) for n, (name, args) in
                                                             enumerate(calls)], text="Let me add them.")),
                                     sse(fa.message_stream(["The sum", " is 5."]))])


def _gemini(calls: list[tuple[str, dict[str, Any]]]) -> FakeServer:
    return fg.FakeGemini(replies=[sse(fg.function_call_stream(calls)), sse(fg.content_stream(["The sum", " is 5."]))])


def _ollama(calls: list[tuple[str, dict[str, Any]]]) -> FakeServer:
    return fo.FakeOllama(replies=[ndjson(fo.tool_calls_stream("llama3.2:latest", calls)),
                                  ndjson(fo.chat_stream("llama3.2:latest", ["The sum", " is 5."]))])


FAKES = {"openai": (_openai, "openai:gpt-4o-mini"), "anthropic": (_anthropic, "anthropic:claude-haiku-4-5"),
         "gemini": (_gemini, "gemini:gemini-2.5-flash"), "ollama": (_ollama, "ollama:llama3.2")}


def _results_sent(provider: str, body: dict[str, Any]) -> list[Any]:
    """The tool results as the second request carried them, in the provider's own format."""
    if provider == "openai":
        return [(m["tool_call_id"], m["content"]) for m in body["messages"] if m["role"] == "tool"]
    if provider == "anthropic":
        return [(b["tool_use_id"], b["content"]) for b in body["messages"][-1]["content"]]
    if provider == "gemini":
        return [(p["functionResponse"]["name"], p["functionResponse"]["response"]["output"])
                for p in body["contents"][-1]["parts"]]
    return [(m["tool_name"], m["content"]) for m in body["messages"] if m["role"] == "tool"]


@pytest.mark.parametrize("provider", list(FAKES))
async def test_each_provider_asks_runs_and_reads_back(provider: str, isolated_env: Path) -> None:
    make, model = FAKES[provider]
    with make([("add", {"a": 2, "b": 3})]) as fake:
        engine = tool_engine(isolated_env, {provider: getattr(fake, "base_url", fake.url)},
                             server=stdio_server(trusted_tools=["add"]))
        try:
            events = await converse(engine, ask(engine, "What is 2 + 3?", model))
        finally:
            await engine.aclose()
    answer = finished(events).answer
    assert answer.text.endswith("The sum is 5.") and answer.provider == provider
    (result,) = answer.tool_results
    assert (result.qualified, dict(result.arguments), result.status, result.text, result.approved_by) == \
        ("t.add", {"a": 2, "b": 3}, "ok", "5.0", "trusted")
    assert [type(e) for e in events if isinstance(e, ToolCallStarted | ToolCallFinished)] == [ToolCallStarted, ToolCallFinished]
    first, second = (json.loads(seen.body) for seen in fake.seen if seen.method == "POST" and "show" not in seen.path)
    offered = json.dumps(first)
    assert '"add"' in offered and "Add two numbers" in offered  # the server's tools, in the provider's format
    sent = _results_sent(provider, second)
    assert [text for _, text in sent] == ["5.0"]
    assert answer.usage.input_tokens > 0 and answer.tools_ms > 0
    history = History(engine.conn).tool_calls(answer.conversation_id)  # what the closed engine left
    assert [(c.tool, c.status, c.approved_by, c.result, json.loads(c.arguments)) for c in history] == \
        [("add", "ok", "trusted", "5.0", {"a": 2, "b": 3})]
    assert history[0].message_id == answer.message_id


async def test_approved_call_has_its_side_effect_and_refused_one_does_not(isolated_env: Path, tmp_path: Path) -> None:
    note = tmp_path / "note.txt"
    calls = [("write_note", {"path": str(note), "text": "hello"})]
    for choice, exists in (("refuse", False), ("once", True)):
        note.unlink(missing_ok=True)
        with _openai(calls) as fake:
            engine = tool_engine(isolated_env, {"openai": fake.base_url})
            try:
                events = await converse(engine, ask(engine, f"Write a note ({choice})", "openai:gpt-4o-mini",
                                                    ask_user=True), {"write_note": choice})
            finally:
                await engine.aclose()
        (asked,) = [e for e in events if isinstance(e, ToolCallRequested)]
        assert (asked.call.qualified, dict(asked.call.arguments)) == ("t.write_note", calls[0][1])
        (result,) = finished(events).answer.tool_results
        assert note.exists() is exists
        assert result.approved_by == ("user once" if exists else "refused")
        tool_message = next(m for m in json.loads(fake.seen[1].body)["messages"] if m["role"] == "tool")
        assert ("wrote 5 characters" in tool_message["content"]) is exists
        assert ("did not allow" in tool_message["content"]) is not exists


async def test_always_for_this_tool_asks_once_per_session(isolated_env: Path, tmp_path: Path) -> None:
    calls = [("write_note", {"path": str(tmp_path / "a.txt"), "text": "a"})]
    with foa.FakeOpenAI(replies=[sse(foa.tool_calls_stream([("c1", *calls[0])])), sse(foa.chat_stream(["ok"])),
                                 sse(foa.tool_calls_stream([("c2", *calls[0])])), sse(foa.chat_stream(["ok"]))]) as fake:
        engine = tool_engine(isolated_env, {"openai": fake.base_url})
        try:
            first = await converse(engine, ask(engine, "one", "openai:gpt-4o-mini", ask_user=True), {"write_note": "always"})
            second = await converse(engine, ask(engine, "two", "openai:gpt-4o-mini", ask_user=True))
        finally:
            await engine.aclose()
    assert sum(isinstance(e, ToolCallRequested) for e in first + second) == 1
    assert finished(second).answer.tool_results[0].approved_by == "user always"


async def test_two_slow_calls_of_one_turn_overlap(isolated_env: Path, sleep_log: Path) -> None:
    """The server logs when each sleep began and ended: the second began before the first ended."""
    calls = [("sleep", {"seconds": 1.0}), ("sleep", {"seconds": 1.0})]
    with _openai(calls) as fake:
        engine = tool_engine(isolated_env, {"openai": fake.base_url},
                             server=stdio_server(log=sleep_log, trusted_tools=["sleep"]))
        try:
            answer = finished(await converse(engine, ask(engine, "nap twice", "openai:gpt-4o-mini"))).answer
        finally:
            await engine.aclose()
    first, second = sorted((json.loads(line) for line in sleep_log.read_text().splitlines()), key=lambda s: s["start"])
    assert second["start"] < first["end"] and first["start"] < second["end"]
    assert [r.status for r in answer.tool_results] == ["ok", "ok"]
    # Side by side, the wall time is less than the two calls one after another (both figures from this run).
    assert answer.tools_ms < sum(r.elapsed_ms for r in answer.tool_results)


async def test_the_round_limit_ends_the_loop(isolated_env: Path) -> None:
    again = sse(foa.tool_calls_stream([("c", "add", {"a": 1, "b": 1})]))
    with foa.FakeOpenAI(replies=[again]) as fake:
        engine = tool_engine(isolated_env, {"openai": fake.base_url}, server=stdio_server(trusted_tools=["add"]),
                             mcp={"max_turns": 2})
        try:
            events = await converse(engine, ask(engine, "loop forever", "openai:gpt-4o-mini"))
        finally:
            await engine.aclose()
    answer = finished(events).answer
    assert len(answer.tool_results) == 2 and len(fake.seen) == 3
    assert any(isinstance(e, Notice) and "after 2 rounds (mcp.max_turns)" in e.text for e in events)


async def test_a_turn_that_ran_a_tool_is_never_cached(isolated_env: Path) -> None:
    replies = [sse(foa.tool_calls_stream([("c", "add", {"a": 2, "b": 3})])), sse(foa.chat_stream(["5"]))]
    with foa.FakeOpenAI(replies=replies * 2) as fake:
        engine = tool_engine(isolated_env, {"openai": fake.base_url}, server=stdio_server(trusted_tools=["add"]))
        try:
            first = finished(await converse(engine, ask(engine, "2 + 3?", "openai:gpt-4o-mini"))).answer
            second = finished(await converse(engine, ask(engine, "2 + 3?", "openai:gpt-4o-mini"))).answer
        finally:
            await engine.aclose()
    assert not first.cached and not second.cached and len(fake.seen) == 4
    assert engine.conn.execute("SELECT count(*) FROM response_cache").fetchone()[0] == 0


async def test_a_tool_free_answer_is_cached_apart_from_requests_without_tools(isolated_env: Path) -> None:
    """Offering tools is part of the key: the same question asked with --no-tools is a different request."""
    with foa.FakeOpenAI(pieces=["Paris."]) as fake:
        engine = tool_engine(isolated_env, {"openai": fake.base_url})
        try:
            answers = [finished(await converse(engine, ask(engine, "Capital of France?", "openai:gpt-4o-mini"))).answer
                       for _ in range(2)]
            no_tools = finished(await converse(engine, ask(engine, "Capital of France?", "openai:gpt-4o-mini",
                                                           enabled=False)))
        finally:
            await engine.aclose()
    assert [a.cached for a in answers] == [False, True] and not no_tools.answer.cached
    assert "tools" in json.loads(fake.seen[0].body) and "tools" not in json.loads(fake.seen[1].body)


async def test_the_engine_stream_without_servers_is_unchanged(isolated_env: Path) -> None:
    with foa.FakeOpenAI(pieces=["Paris."]) as fake:
        engine = tool_engine(isolated_env, {"openai": fake.base_url}, servers=False)
        try:
            events = await converse(engine, ask(engine, "Capital?", "openai:gpt-4o-mini"))
        finally:
            await engine.aclose()
    assert text_of(events) == "Paris." and "tools" not in json.loads(fake.seen[0].body)
    assert isinstance(events[-1], Finished) and events[-1].answer.tool_results == ()
