"""Each provider's tool-call format against real recorded traffic: tool lists, streamed calls, and the next request."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest

from assistant.core.tools import ToolCall, ToolExchange, ToolResult, ToolSpec
from assistant.providers import anthropic, gemini, openai
from assistant.providers import ollama_tools as ollama
from assistant.tools.values import assign_wire_names
from tests.fakes.cassettes import cassette

FIX = Path(__file__).resolve().parents[1] / "fixtures"


def sse_data(body: bytes) -> list[dict[str, Any]]:
    """The JSON of every SSE event (`data:` lines joined), without OpenAI's [DONE]."""
    out = []
    for block in re.split(r"\r?\n\r?\n", body.decode("utf-8")):
        data = "\n".join(line[5:].lstrip() for line in block.splitlines() if line.startswith("data:"))
        if data and data != "[DONE]":
            out.append(json.loads(data))
    return out


def specs_from(tools: list[dict[str, Any]], pick: str, server: str = "rec") -> tuple[ToolSpec, ...]:
    """The tools a recorded request offered, as if an MCP server named `server` had listed them."""
    made = []
    for tool in tools:
        t = tool.get("function", tool)
        schema = t.get(pick) or {}
        made.append(ToolSpec(server, t["name"], t.get("description") or "", schema))
    return assign_wire_names(made)


def results_for(calls: tuple[ToolCall, ...], *texts: str) -> list[ToolResult]:
    return [ToolResult(c.id, c.server, c.tool, "ok", text) for c, text in zip(calls, texts, strict=True)]


def answered(calls: tuple[ToolCall, ...], *texts: str) -> ToolExchange:
    """The round of `calls`, each answered with one of `texts` (a model turn that said nothing first)."""
    return ToolExchange("", calls, tuple(results_for(calls, *texts)))


# -- OpenAI --------------------------------------------------------------------------------------------------------
OPENAI_SSE = FIX / "openai" / "openai-python-sse"


@pytest.mark.parametrize(("name", "expected"), [
    ("f82268f2fefd", [("call_JMW1whyEaYG438VE1OIflxA2", "GetWeatherArgs", {"city": "Edinburgh", "country": "GB", "units": "c"}),
                      ("call_DNYTawLBoN8fj3KN6qU9N1Ou", "get_stock_price", {"ticker": "AAPL", "exchange": "NASDAQ"})]),
    ("c6aa7e397b71", [("call_c91SqDXlYFuETYv8mUHzz6pp", "GetWeatherArgs", {"city": "Edinburgh", "country": "UK", "units": "c"})]),
    ("a247c49c5fcd", [("call_CTf1nWJLqSeRgDqaCG27xZ74", "get_weather", {"city": "San Francisco", "state": "CA"})]),
    ("2018feb66ae1", [("call_4XzlGBLtUe9dy3GVNV4jhq7h", "get_weather", {"city": "New York City"})]),
])
def test_openai_streamed_argument_fragments_become_whole_calls(name: str, expected: list[tuple[str, str, dict[str, Any]]]) -> None:
    tools = assign_wire_names([ToolSpec("rec", n, "", {}) for _, n, _ in expected])
    stream = openai.ToolStream(tools)
    for chunk in sse_data((OPENAI_SSE / f"{name}.sse").read_bytes()):
        stream.feed(chunk)
    assert stream.wants_tools and stream.finish_reason == "tool_calls"
    assert [(c.provider_id, c.wire_name, dict(c.arguments)) for c in stream.calls] == expected
    assert all(c.server == "rec" and not c.problem for c in stream.calls)


@pytest.mark.parametrize("name", ["e2aad469b71d", "4cc50a6135d2", "83b060bae42e"])
def test_openai_text_answers_ask_for_no_tools(name: str) -> None:
    stream = openai.ToolStream(())
    for chunk in sse_data((OPENAI_SSE / f"{name}.sse").read_bytes()):
        stream.feed(chunk)
    assert stream.calls == () and not stream.wants_tools


def test_openai_chain_of_two_calls_rebuilds_each_next_request() -> None:
    """Not streamed: each answer's calls plus their results give exactly the messages the next request sent."""
    rec = cassette(FIX / "openai" / "simonw-llm" / "test_tools__test_tool_use_chain_of_two_calls.yaml")
    first = json.loads(rec[0].request_body)
    tools = specs_from(first["tools"], "parameters")
    assert openai.with_tools({"model": first["model"]}, tools)["tools"] == first["tools"]
    history = list(first["messages"])
    for i, answer_text in [(0, "123124"), (1, "true")]:
        stream = openai.ToolStream(tools)
        stream.feed(json.loads(rec[i].body))
        assert stream.wants_tools
        history += openai.turn_messages(answered(stream.calls, answer_text))
        assert history == json.loads(rec[i + 1].request_body)["messages"]
    last = openai.ToolStream(tools)
    last.feed(json.loads(rec[2].body))
    assert not last.wants_tools and last.finish_reason == "stop"


@pytest.mark.parametrize("variant", "abcd")
def test_openai_compatible_streams_from_openrouter(variant: str) -> None:
    """Kimi repeats the id and name in every fragment (a), sends the call whole (b), splits name and arguments (c),
    or sends null arguments (d); some send no `tool_calls` finish reason at all."""
    rec = cassette(FIX / "openai" / "simonw-llm" / f"test_tools_streaming__test_tools_streaming_variant_{variant}.yaml")
    tools = specs_from(json.loads(rec[0].request_body)["tools"], "parameters")
    stream = openai.ToolStream(tools)
    for chunk in sse_data(rec[0].body):
        stream.feed(chunk)
    (call,) = stream.calls
    assert (call.server, call.tool, dict(call.arguments), call.problem) == ("rec", "llm_version", {}, "")
    assert stream.wants_tools
    sent = json.loads(rec[1].request_body)["messages"][2:]  # llm also sends an empty assistant message before these
    mine = openai.turn_messages(answered(stream.calls, "0.fixed-version"))
    assert [m["role"] for m in mine] == [m["role"] for m in sent] == ["assistant", "tool"]
    assert mine[0]["tool_calls"][0]["function"] == sent[0]["tool_calls"][0]["function"]
    assert mine[1]["content"] == sent[1]["content"]
    assert mine[0]["tool_calls"][0]["id"] == mine[1]["tool_call_id"] == call.provider_id


def test_openai_broken_arguments_and_unknown_names_become_problems() -> None:
    stream = openai.ToolStream(assign_wire_names([ToolSpec("s", "add", "", {})]))
    stream.feed({"choices": [{"index": 0, "delta": {"tool_calls": [
        {"index": 0, "id": "a", "function": {"name": "add", "arguments": '{"a": 1'}},
        {"index": 1, "id": "b", "function": {"name": "launch", "arguments": "{}"}}]}}]})
    stream.feed({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]})
    bad, unknown = stream.calls
    assert (bad.server, bad.problem) == ("s", "its arguments are not valid JSON")
    assert (unknown.server, unknown.problem) == ("", "no tool is named 'launch'")


def test_openai_calls_cut_off_by_the_length_limit_are_not_run() -> None:
    stream = openai.ToolStream(())
    stream.feed({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "a", "function": {"name": "x", "arguments": '{"a'}}]},
                              "finish_reason": "length"}]})
    assert stream.calls and not stream.wants_tools


# -- Anthropic -----------------------------------------------------------------------------------------------------
def test_anthropic_input_json_deltas_become_the_input() -> None:
    body = (FIX / "anthropic" / "anthropic-sdk-python" / "streaming-fixtures" / "tool_use_response.sse").read_bytes()
    stream = anthropic.ToolStream(assign_wire_names([ToolSpec("weather", "get_weather", "", {})]))
    for event in sse_data(body):
        stream.feed(event)
    (call,) = stream.calls
    assert (call.id, call.qualified, dict(call.arguments)) == ("toolu_01NRLabsLyVHZPKxbKvkfSMn", "weather.get_weather", {"location": "Paris"})
    assert stream.wants_tools and stream.stop_reason == "tool_use"


def test_anthropic_two_parallel_calls_rebuild_the_next_request() -> None:
    rec = cassette(FIX / "anthropic" / "llm-anthropic" / "test_tools.yaml")
    first = json.loads(rec[0].request_body)
    tools = specs_from(first["tools"], "input_schema")
    assert anthropic.with_tools({}, tools)["tools"] == first["tools"]
    stream = anthropic.ToolStream(tools)
    for event in sse_data(rec[0].body):
        stream.feed(event)
    assert stream.wants_tools and [c.tool for c in stream.calls] == ["pelican_name_generator"] * 2
    mine = anthropic.turn_messages(answered(stream.calls, "Charles", "Sammy"))
    sent = json.loads(rec[1].request_body)["messages"][1:]
    # llm puts a " " text block first; an empty text block is rejected, so ours has none.
    assert mine[0] == {"role": "assistant", "content": [b for b in sent[0]["content"] if b["type"] == "tool_use"]}
    assert mine[1] == sent[1]
    final = anthropic.ToolStream(tools)
    for event in sse_data(rec[1].body):
        final.feed(event)
    assert final.calls == () and not final.wants_tools


def test_anthropic_single_call_with_empty_input() -> None:
    rec = cassette(FIX / "anthropic" / "llm-anthropic" / "test_stream_events_tool_calls.yaml")
    stream = anthropic.ToolStream(specs_from(json.loads(rec[0].request_body)["tools"], "input_schema"))
    for event in sse_data(rec[0].body):
        stream.feed(event)
    (call,) = stream.calls
    assert (call.id, call.tool, dict(call.arguments), call.problem) == ("toolu_01CzN6riCPqw4pVSuTd9Dwn7", "pelican_name_generator", {}, "")


def test_anthropic_failed_and_refused_results_are_marked_as_errors() -> None:
    call = ToolCall("toolu_1", "s", "w", {"p": "x"}, "toolu_1", "w")
    for status in ("error", "refused", "timeout"):
        (_, user) = anthropic.turn_messages(ToolExchange("Let me try.", (call,), (ToolResult("toolu_1", "s", "w", status, "no"),)))
        assert user["content"] == [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "no", "is_error": True}]


# -- Gemini --------------------------------------------------------------------------------------------------------
def _camel(value: Any) -> Any:
    """llm-gemini writes the request in the API's snake_case spelling; the API reads both."""
    if isinstance(value, dict):
        return {re.sub(r"_(\w)", lambda m: m.group(1).upper(), k): _camel(v) for k, v in value.items()}
    return [_camel(v) for v in value] if isinstance(value, list) else value


def test_gemini_function_call_with_thought_signature_rebuilds_the_next_request() -> None:
    rec = cassette(FIX / "gemini" / "llm-gemini" / "test_tools.yaml")
    first = json.loads(rec[0].request_body)
    tools = specs_from(first["tools"][0]["functionDeclarations"], "parameters")
    declared = gemini.with_tools({}, tools)["tools"][0]["functionDeclarations"]
    assert declared == [{"name": "pelican_name_generator", "parametersJsonSchema": {"properties": {}, "type": "object"}}]
    stream = gemini.ToolStream(tools)
    for chunk in json.loads(rec[0].body):  # streamGenerateContent without alt=sse: one JSON array
        stream.feed(chunk)
    (call,) = stream.calls
    assert (call.tool, call.provider_id, call.id) == ("pelican_name_generator", "", "gemini_call_0")
    assert call.signature.startswith("ClgBEU0yD8z3") and stream.wants_tools and stream.finish_reason == "STOP"
    mine = gemini.turn_messages(answered(stream.calls, "Charles"))
    sent = _camel(json.loads(rec[1].request_body)["contents"][1:3])
    for turn in sent:  # llm made up call ids the API never sent
        for part in turn["parts"]:
            (part.get("functionCall") or part.get("functionResponse")).pop("id")
    assert mine == sent


def test_gemini_3_signature_and_arguments() -> None:
    rec = cassette(FIX / "gemini" / "llm-gemini" / "test_tools_with_gemini_3_thought_signatures.yaml")
    tools = specs_from(json.loads(rec[0].request_body)["tools"][0]["functionDeclarations"], "parameters")
    stream = gemini.ToolStream(tools)
    for chunk in json.loads(rec[0].body):
        stream.feed(chunk)
    (call,) = stream.calls
    assert (call.tool, dict(call.arguments)) == ("multiply", {"x": 5, "y": 3})
    model_turn, answer = gemini.turn_messages(answered(stream.calls, "15"))
    sent = _camel(json.loads(rec[1].request_body)["contents"])
    assert model_turn["parts"] == [p for p in sent[1]["parts"] if "functionCall" in p]
    assert answer == sent[2]


def test_gemini_alt_sse_stream_with_ids_from_pydantic_ai() -> None:
    rec = cassette(FIX / "pydantic-ai" / "gemini" / "test_google_streaming_tool_call_thought_signature.yaml")
    first = json.loads(rec[0].request_body)
    tools = specs_from(first["tools"][0]["functionDeclarations"], "parameters_json_schema")
    assert gemini.with_tools({}, tools)["tools"][0]["functionDeclarations"][0]["parametersJsonSchema"] == \
        first["tools"][0]["functionDeclarations"][0]["parameters_json_schema"]
    stream = gemini.ToolStream(tools)
    for chunk in sse_data(rec[0].body):
        stream.feed(chunk)
    assert len(stream.calls) == 1 and stream.wants_tools
    model_turn, answer = gemini.turn_messages(answered(stream.calls, "Mexico"))
    sent_model, sent_answer = json.loads(rec[1].request_body)["contents"][1:3]
    assert model_turn["parts"][0]["functionCall"] == {"name": "get_country", "args": {}}
    # pydantic-ai re-encodes the signature as URL-safe base64; the bytes are the same.
    assert base64.b64decode(model_turn["parts"][0]["thoughtSignature"]) == \
        base64.urlsafe_b64decode(sent_model["parts"][0]["thoughtSignature"])
    assert answer["parts"][0]["functionResponse"]["name"] == sent_answer["parts"][0]["functionResponse"]["name"]
    assert answer["parts"][0]["functionResponse"]["response"] == {"output": "Mexico"}


def test_gemini_error_results_use_the_error_key() -> None:
    call = ToolCall("c", "s", "w", {}, "fc-1", "w")
    _, answer = gemini.turn_messages(ToolExchange("", (call,), (ToolResult("c", "s", "w", "timeout", "too slow"),)))
    assert answer["parts"] == [{"functionResponse": {"name": "w", "response": {"error": "too slow"}, "id": "fc-1"}}]


# -- Ollama --------------------------------------------------------------------------------------------------------
def _ollama_examples(section: str) -> list[dict[str, Any]]:
    examples = json.loads((FIX / "ollama" / "ollama-docs" / "api_md_json_examples.json").read_text())
    return [obj for e in examples if section in e["section"] for obj in e["objects"]]


@pytest.mark.parametrize(("section", "name", "arguments"), [
    ("Chat request (Streaming with tools) > Response", "get_weather", {"city": "Tokyo"}),
    ("Chat request (No streaming, with tools) > Response", "get_weather", {"city": "Tokyo"}),
    ("Chat request (with tools) > Response", "get_current_weather", {"format": "celsius", "location": "Paris, FR"}),
])
def test_ollama_tool_calls_arrive_whole(section: str, name: str, arguments: dict[str, Any]) -> None:
    stream = ollama.ToolStream(assign_wire_names([ToolSpec("w", name, "", {})]))
    for chunk in _ollama_examples(section):
        stream.feed(chunk)
    (call,) = stream.calls
    assert (call.qualified, dict(call.arguments), call.id) == (f"w.{name}", arguments, "ollama_call_0")
    assert stream.wants_tools and stream.done_reason == "stop"


def test_ollama_history_matches_the_recorded_request() -> None:
    (rec,) = cassette(FIX / "ollama" / "openllmetry" / "test_ollama_chat_tool_calls_legacy.yaml")
    sent = json.loads(rec.request_body)["messages"]
    call = ToolCall("ollama_call_0", "w", "get_current_weather", sent[0]["tool_calls"][0]["function"]["arguments"],
                    wire_name="get_current_weather")
    mine = ollama.turn_messages(ToolExchange("", (call,), (ToolResult(call.id, "w", call.tool, "ok", sent[1]["content"]),)))
    assert mine[0] == sent[0]
    # Current Ollama (and its Python client's Message.tool_name) names the tool a result belongs to; this 2024
    # recording predates the field.
    assert mine[1] == {**sent[1], "tool_name": "get_current_weather"}
    answer = ollama.ToolStream(())
    answer.feed(json.loads(rec.body))
    assert answer.calls == () and not answer.wants_tools


def test_every_cloud_format_leaves_a_body_without_tools_alone() -> None:
    for module in (openai, anthropic, gemini):
        assert module.with_tools({"model": "m"}, ()) == {"model": "m"}
