"""The one line `assistant ask` prints on stderr: where the answer went, why, what it cost."""

from __future__ import annotations

from assistant.cli.ask import route_line
from assistant.core.money import usd as money
from assistant.core.types import Answer, Usage


def answer(reason: str, cost: float, saved: float = 0.0, estimated: bool = False, provider: str = "openai") -> Answer:
    return Answer("hi", provider, "gpt-4o-mini", False, Usage(10, 20), cost, saved, 150.0, 1150.0, "c",
                  route_reason=reason, cost_estimated=estimated)


def test_local_answer() -> None:
    line = route_line(answer("ollama:llama3.2 - local", 0.0, saved=0.00012, provider="ollama"))
    assert line.startswith("ollama:llama3.2 - local, $0 · saved $0.0001 · first token 150 ms · 19 tok/s")


def test_fallback_answer_names_the_cause_and_the_cost() -> None:
    line = route_line(answer("Ollama is not running - answered by openai:gpt-4o-mini", 0.00042))
    assert line.startswith("Ollama is not running - answered by openai:gpt-4o-mini, $0.0004 · first token")


def test_estimated_cost_is_marked() -> None:
    assert "$0.0004 (estimated)" in route_line(answer("openai:gpt-4o-mini - cloud", 0.00042, estimated=True))
    assert money(0.0) == "$0" and money(0.000012) == "$0.000012" and money(1.5) == "$1.5000"
