"""Servers that crash, hang or print garbage, and models that cannot call tools: one clear line, and an answer."""

from __future__ import annotations

import json
from pathlib import Path

from assistant.core.events import Notice, ToolCallFinished
from tests.fakes import ollama as fo
from tests.fakes import openai as foa
from tests.helpers import finished
from tests.tools.conftest import stdio_server
from tests.tools.engine_helpers import ask, converse, ndjson, sse, tool_engine


def _calls_then_text(*calls: tuple[str, dict[str, object]]) -> foa.FakeOpenAI:
    return foa.FakeOpenAI(replies=[sse(foa.tool_calls_stream([(f"c{n}", name, args) for n, (name, args) in
                                                             enumerate(calls)])),
                                   sse(foa.chat_stream(["Done."]))])


async def test_a_server_crashing_mid_call_is_one_line_and_the_answer_goes_on(isolated_env: Path) -> None:
    with _calls_then_text(("crash", {})) as fake:
        engine = tool_engine(isolated_env, {"openai": fake.base_url}, server=stdio_server(trusted_tools=["*"]))
        try:
            events = await converse(engine, ask(engine, "crash it", "openai:gpt-4o-mini"))
        finally:
            await engine.aclose()
    (result,) = finished(events).answer.tool_results
    assert result.status == "error" and "\n" not in result.text
    assert result.text.startswith("The MCP server 't' stopped during the call")
    assert "crashing on purpose" in result.text  # its last words on stderr, sanitised
    assert finished(events).answer.text == "Done."
    sent = next(m for m in json.loads(fake.seen[1].body)["messages"] if m["role"] == "tool")
    assert sent["content"] == result.text  # the model is told, too


async def test_a_hung_tool_is_stopped_at_the_call_timeout(isolated_env: Path) -> None:
    with _calls_then_text(("sleep", {"seconds": 60})) as fake:
        engine = tool_engine(isolated_env, {"openai": fake.base_url}, server=stdio_server(trusted_tools=["*"]),
                             mcp={"call_timeout": 1})
        try:
            events = await converse(engine, ask(engine, "sleep long", "openai:gpt-4o-mini"))
        finally:
            await engine.aclose()
    (result,) = finished(events).answer.tool_results
    assert (result.status, result.text) == ("timeout", "The tool t.sleep did not finish within 1s and was stopped.")


async def test_a_server_that_does_not_start_is_one_notice_and_the_model_answers_without_it(isolated_env: Path) -> None:
    with foa.FakeOpenAI(pieces=["Paris."]) as fake:
        engine = tool_engine(isolated_env, {"openai": fake.base_url}, server=stdio_server("garbage"),
                             mcp={"start_timeout": 2})
        try:
            events = await converse(engine, ask(engine, "Capital of France?", "openai:gpt-4o-mini"))
            again = await converse(engine, ask(engine, "Capital of Italy?", "openai:gpt-4o-mini"))
        finally:
            await engine.aclose()
    (line,) = [e.text for e in events if isinstance(e, Notice)]
    assert line.startswith("MCP server 't' did not start: ") and "not MCP" in line and "\x1b" not in line
    assert finished(events).answer.text == "Paris." and "tools" not in json.loads(fake.seen[0].body)
    assert not any(isinstance(e, Notice) for e in again)  # said once per session


async def test_a_call_of_an_unknown_tool_is_answered_with_the_problem(isolated_env: Path) -> None:
    with _calls_then_text(("launch_missiles", {})) as fake:
        engine = tool_engine(isolated_env, {"openai": fake.base_url})
        try:
            events = await converse(engine, ask(engine, "go", "openai:gpt-4o-mini"))
        finally:
            await engine.aclose()
    (done,) = [e for e in events if isinstance(e, ToolCallFinished)]
    assert done.result.status == "error" and "no tool is named 'launch_missiles'" in done.result.text
    assert not done.result.ran


async def test_the_router_skips_the_embedded_model_when_tools_are_on(isolated_env: Path) -> None:
    """Nothing named: the embedded model (always available) cannot call tools, so a cloud model answers."""
    with _calls_then_text(("add", {"a": 1, "b": 2})) as fake:
        engine = tool_engine(isolated_env, {"openai": fake.base_url}, server=stdio_server(trusted_tools=["add"]),
                             general={"policy": "local-first"})
        try:
            events = await converse(engine, ask(engine, "1 + 2?", None))
        finally:
            await engine.aclose()
    answer = finished(events).answer
    assert answer.provider == "openai" and answer.tool_results[0].text == "3.0"
    notes = [e.text for e in events if isinstance(e, Notice)]
    assert any("embedded:smollm2 cannot call tools - answering with openai:" in n for n in notes), notes


async def test_a_named_model_without_tools_answers_without_them_and_says_so(isolated_env: Path) -> None:
    engine = tool_engine(isolated_env, {})
    try:
        events = await converse(engine, ask(engine, "Say hi", "embedded:smollm2", max_tokens=4))
    finally:
        await engine.aclose()
    notes = [e.text for e in events if isinstance(e, Notice)]
    assert "embedded:smollm2 cannot call tools - answering without tools." in notes
    assert finished(events).answer.provider == "embedded"


async def test_ollama_models_without_tools_are_skipped_from_their_capabilities(isolated_env: Path) -> None:
    with fo.FakeOllama(capabilities=["completion"]) as ollama, foa.FakeOpenAI(pieces=["From the cloud."]) as cloud:
        engine = tool_engine(isolated_env, {"ollama": ollama.url, "openai": cloud.base_url})
        try:
            events = await converse(engine, ask(engine, "Hi", None))
        finally:
            await engine.aclose()
    notes = [e.text for e in events if isinstance(e, Notice)]
    assert finished(events).answer.provider == "openai"
    assert any("ollama:llama3.2:latest" in n and "cannot call tools" in n for n in notes), notes
    assert not any(s.path.startswith("/api/chat") for s in ollama.seen)


async def test_ollamas_does_not_support_tools_falls_back(isolated_env: Path) -> None:
    """An Ollama too old to list capabilities gets the tools; its 400 sends the request to the next model."""
    with fo.FakeOllama(capabilities=[]) as ollama, foa.FakeOpenAI(pieces=["From the cloud."]) as cloud:
        ollama.routes[("POST", "/api/show")] = fo.show(None)
        engine = tool_engine(isolated_env, {"ollama": ollama.url, "openai": cloud.base_url})
        try:
            events = await converse(engine, ask(engine, "Hi", None))
        finally:
            await engine.aclose()
    assert finished(events).answer.provider == "openai"
    notes = [e.text for e in events if isinstance(e, Notice)]
    assert any("cannot call tools" in n and "trying openai:" in n for n in notes), notes


async def test_ollama_with_tools_runs_calls_and_sends_results_by_tool_name(isolated_env: Path) -> None:
    replies = [ndjson(fo.tool_calls_stream("llama3.2:latest", [("add", {"a": 4, "b": 5})])),
               ndjson(fo.chat_stream("llama3.2:latest", ["9."]))]
    with fo.FakeOllama(replies=replies) as ollama:
        engine = tool_engine(isolated_env, {"ollama": ollama.url}, server=stdio_server(trusted_tools=["add"]))
        try:
            events = await converse(engine, ask(engine, "4 + 5?", None))
        finally:
            await engine.aclose()
    assert finished(events).answer.text == "9." and finished(events).answer.provider == "ollama"
    second = json.loads([s for s in ollama.seen if s.path.startswith("/api/chat")][1].body)
    assert second["messages"][-2]["tool_calls"] == [{"function": {"name": "add", "arguments": {"a": 4, "b": 5}}}]
    assert second["messages"][-1] == {"role": "tool", "content": "9.0", "tool_name": "add"}


async def test_a_named_ollama_model_without_tools_is_asked_without_them(isolated_env: Path) -> None:
    with fo.FakeOllama(capabilities=["completion"], pieces=["Hi", "."]) as ollama:
        engine = tool_engine(isolated_env, {"ollama": ollama.url})
        try:
            events = await converse(engine, ask(engine, "Say hi", "ollama:llama3.2"))
        finally:
            await engine.aclose()
    assert finished(events).answer.text == "Hi."
    assert "ollama:llama3.2:latest cannot call tools - answering without tools." in [
        e.text for e in events if isinstance(e, Notice)]
    (chat,) = [s for s in ollama.seen if s.path.startswith("/api/chat")]
    assert not json.loads(chat.body).get("tools")  # the client sends an empty list when none are offered
