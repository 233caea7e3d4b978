"""`assistant ask --compare`: concurrent, one failure does not stop the others, answers side by side."""

from __future__ import annotations

import json
import threading

import pytest

from assistant.cli.compare import Result, render
from assistant.core.errors import AuthError
from assistant.core.types import Answer, Usage
from assistant.main import main
from tests.fakes import openai as fo
from tests.fakes.ollama import FakeOllama, chat_stream
from tests.fakes.server import Reply, Seen


def both_at_once(barrier: threading.Barrier, reply: Reply):
    """A route that answers only once the other model's request has also arrived: proof they run concurrently."""
    def route(seen: Seen) -> Reply:
        try:
            barrier.wait(timeout=10)
        except threading.BrokenBarrierError:
            return Reply.json({"error": "requests were not concurrent"}, 400)
        return reply
    return route


class Terminal:
    """stdin as a person at a terminal (pytest's own stdin refuses reads)."""

    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def typed_prompt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", Terminal())


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch):
    barrier = threading.Barrier(2)
    ollama = FakeOllama(pieces=["Paris", "."])
    ollama.routes[("POST", "/api/chat")] = both_at_once(
        barrier, Reply(200, chat_stream("llama3.2", ["Paris", "."]), content_type="application/x-ndjson"))
    cloud = fo.FakeOpenAI()
    cloud.routes[("POST", fo.PATH)] = both_at_once(
        barrier, Reply(200, fo.chat_stream(["It is", " Paris."], prompt_tokens=2000, completion_tokens=1000),
                       content_type="text/event-stream"))
    with ollama, cloud:
        monkeypatch.setenv("OLLAMA_HOST", ollama.url)
        monkeypatch.setenv("OPENAI_BASE_URL", cloud.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-compare-0000")
        monkeypatch.setenv("COLUMNS", "120")
        yield ollama, cloud


MODELS = ["-m", "ollama:llama3.2", "-m", "openai:gpt-4o-mini", "-m", "anthropic:claude-haiku-4-5"]


def test_compare_json_runs_concurrently_and_survives_a_failure(fakes, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "--compare", "--json", *MODELS, "Capital of France?"]) == 0
    data = json.loads(capsys.readouterr().out)
    ollama, cloud, claude = data["results"]
    assert (ollama["ref"], ollama["text"], ollama["cost_usd"]) == ("ollama:llama3.2:latest", "Paris.", 0.0)
    assert (cloud["ref"], cloud["text"]) == ("openai:gpt-4o-mini", "It is Paris.")
    assert cloud["cost_usd"] == pytest.approx(2000 * 0.15e-6 + 1000 * 0.6e-6)
    assert claude["ref"] == "anthropic:claude-haiku-4-5" and claude["error"]["kind"] == AuthError.kind
    assert "assistant keys set anthropic" in claude["error"]["message"]
    assert data["wall_ms"] > 0


def test_compare_text_side_by_side(fakes, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "--compare", *MODELS, "Capital of France?"]) == 0
    out, err = capsys.readouterr()
    first = out.splitlines()[0]
    assert first.index("ollama:llama3.2") < first.index("openai:gpt-4o-mini") < first.index("anthropic:claude-haiku-4-5")
    assert " │ " in first and "failed: " in out and "$0.0009" in out and "first token" in out
    assert "2/3 answered" in err and "spent $0.0009" in err


def test_compare_all_failing_exits_non_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "--compare", "--json", "--local-only", "-m", "openai:gpt-4o-mini", "-m", "gemini:gemini-2.5-flash",
                 "Hi"]) == 1
    results = json.loads(capsys.readouterr().out)["results"]
    assert ["local-only mode is on" in r["error"]["message"] for r in results] == [True, True]


@pytest.mark.parametrize("args", [["ask", "--compare", "-m", "ollama:llama3.2", "Hi"],
                                  ["ask", "-m", "ollama:llama3.2", "-m", "embedded:smollm2", "Hi"],
                                  ["ask", "--compare", "-c", "-m", "ollama:a", "-m", "ollama:b", "Hi"]])
def test_compare_usage_errors(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(args) == 2
    assert capsys.readouterr().err.startswith("assistant: ")


def answer(text: str, cost: float) -> Answer:
    return Answer(text, "p", "m", False, Usage(1, 1), cost, 0.0, 120.0, 900.0, "c")


def test_render_stacks_when_columns_would_be_too_narrow() -> None:
    results = [Result("a:one", answer("alpha " * 20, 0.0), None, 1.0),
               Result("b:two", None, AuthError("No key; run `assistant keys set b`."), 1.0)]
    wide = render(results, 120)
    assert " │ " in wide.splitlines()[0] and all(len(line) <= 120 for line in wide.splitlines())
    narrow = render(results, 40)
    assert " │ " not in narrow and narrow.index("a:one") < narrow.index("b:two")
    assert "failed: No key" in narrow and "$0 · first token 120 ms · total 0.9 s" in narrow
