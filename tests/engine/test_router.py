"""The router as a table: candidates, policy, local-only and budget in; the ordered plan and its reasons out."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from assistant.core.types import ModelRef
from assistant.engine.router import Candidate, plan

OLLAMA = Candidate(ModelRef("ollama", "llama3.2:latest"), True, local=True, latency_ms=400.0)
OLLAMA_DOWN = Candidate(ModelRef("ollama", "llama3.2"), False, "Ollama is not running at http://127.0.0.1:11434",
                        local=True)
EMBEDDED = Candidate(ModelRef("embedded", "smollm2"), True, local=True, latency_ms=90.0)
MINI = Candidate(ModelRef("openai", "gpt-4o-mini"), True, input_price=0.15e-6, output_price=0.6e-6, quality=2, latency_ms=300.0)
HAIKU = Candidate(ModelRef("anthropic", "claude-haiku-4-5"), True, input_price=1e-6, output_price=5e-6, quality=2, latency_ms=250.0)
GPT4O = Candidate(ModelRef("openai", "gpt-4o"), True, input_price=2.5e-6, output_price=10e-6, quality=3)
FLASH = Candidate(ModelRef("gemini", "gemini-2.5-flash"), True, input_price=0.3e-6, output_price=2.5e-6, quality=2, latency_ms=150.0)
NO_KEY = Candidate(ModelRef("gemini", "gemini-2.5-flash"), False, "no gemini key", input_price=0.3e-6, output_price=2.5e-6)
RESTING = Candidate(ModelRef("anthropic", "claude-haiku-4-5"), True, "anthropic failed 3 times in a row", healthy=False,
                    input_price=1e-6, output_price=5e-6, quality=2)
UNPRICED = Candidate(ModelRef("openai", "gpt-9-preview"), True, priced=False, quality=3)
ALL = [OLLAMA, EMBEDDED, GPT4O, HAIKU, MINI, FLASH]


def names(cands: list[Candidate] | tuple) -> list[str]:
    return [str(getattr(c, "ref", c)) for c in cands]


@dataclass(frozen=True)
class Case:
    id: str
    candidates: list[Candidate]
    expect: list[str]
    policy: str = "local-first"
    named: ModelRef | None = None
    local_only: bool = False
    budget_left: float | None = None
    tokens: tuple[int, int] = (100, 500)
    skipped: dict[str, str] = field(default_factory=dict)  # ref -> skip code


CASES = [
    Case("local-first: locals in given order, then cloud cheapest first", ALL,
         ["ollama:llama3.2:latest", "embedded:smollm2", "openai:gpt-4o-mini", "gemini:gemini-2.5-flash",
          "anthropic:claude-haiku-4-5", "openai:gpt-4o"]),
    Case("local-first: Ollama down goes to embedded, cloud after", [OLLAMA_DOWN, EMBEDDED, MINI],
         ["embedded:smollm2", "openai:gpt-4o-mini"], skipped={"ollama:llama3.2": "unavailable"}),
    Case("local-first: no local model goes to the cheapest cloud", [OLLAMA_DOWN, HAIKU, MINI],
         ["openai:gpt-4o-mini", "anthropic:claude-haiku-4-5"], skipped={"ollama:llama3.2": "unavailable"}),
    Case("cheapest: free local models first, then by price for this request", [GPT4O, FLASH, MINI, EMBEDDED, OLLAMA],
         ["embedded:smollm2", "ollama:llama3.2:latest", "openai:gpt-4o-mini", "gemini:gemini-2.5-flash", "openai:gpt-4o"],
         policy="cheapest"),
    Case("cheapest: an unpriced cloud model goes last", [UNPRICED, GPT4O], ["openai:gpt-4o", "openai:gpt-9-preview"],
         policy="cheapest"),
    Case("fastest: by measured p50 first token, unmeasured last", [GPT4O, OLLAMA, FLASH, EMBEDDED, MINI],
         ["embedded:smollm2", "gemini:gemini-2.5-flash", "openai:gpt-4o-mini", "ollama:llama3.2:latest", "openai:gpt-4o"],
         policy="fastest"),
    Case("best: highest quality tier, cheaper first within a tier", [EMBEDDED, MINI, HAIKU, GPT4O, UNPRICED],
         ["openai:gpt-4o", "openai:gpt-9-preview", "openai:gpt-4o-mini", "anthropic:claude-haiku-4-5", "embedded:smollm2"],
         policy="best"),
    Case("a named model wins over every policy", ALL, ["anthropic:claude-haiku-4-5"], policy="cheapest",
         named=ModelRef("anthropic", "claude-haiku-4-5")),
    Case("a named model is tried even when it looks down", [OLLAMA_DOWN], ["ollama:llama3.2"], named=ModelRef("ollama", "llama3.2")),
    Case("local-only never plans a cloud model", ALL, ["ollama:llama3.2:latest", "embedded:smollm2"], policy="best",
         local_only=True, skipped={"openai:gpt-4o": "local_only", "openai:gpt-4o-mini": "local_only"}),
    Case("local-only refuses a named cloud model", ALL, [], named=ModelRef("openai", "gpt-4o"), local_only=True,
         skipped={"openai:gpt-4o": "local_only"}),
    Case("budget used up: cloud refused, locals still answer", ALL, ["ollama:llama3.2:latest", "embedded:smollm2"],
         policy="cheapest", budget_left=0.0, skipped={"openai:gpt-4o-mini": "budget", "openai:gpt-4o": "budget"}),
    Case("budget: a model that could pass what is left is refused", [GPT4O, MINI], ["openai:gpt-4o-mini"], policy="best",
         budget_left=0.001, tokens=(100, 500), skipped={"openai:gpt-4o": "budget"}),
    Case("budget refuses a named cloud model too", ALL, [], named=ModelRef("openai", "gpt-4o"), budget_left=0.0,
         skipped={"openai:gpt-4o": "budget"}),
    Case("budget never blocks a named local model", ALL, ["embedded:smollm2"], named=ModelRef("embedded", "smollm2"),
         budget_left=-1.0),
    Case("unhealthy and keyless providers are skipped", [RESTING, NO_KEY, MINI], ["openai:gpt-4o-mini"], policy="best",
         skipped={"anthropic:claude-haiku-4-5": "unhealthy", "gemini:gemini-2.5-flash": "unavailable"}),
    Case("nothing usable gives an empty plan", [OLLAMA_DOWN, NO_KEY], [],
         skipped={"ollama:llama3.2": "unavailable", "gemini:gemini-2.5-flash": "unavailable"}),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_plan(case: Case) -> None:
    result = plan(list(case.candidates), named=case.named, policy=case.policy, local_only=case.local_only,
                  budget_left=case.budget_left, tokens=case.tokens)
    assert names([s.ref for s in result.steps]) == case.expect
    codes = {str(s.ref): s.code for s in result.skipped}
    for ref, code in case.skipped.items():
        assert codes.get(ref) == code, (ref, codes)
    # Every step is explained in one line that names its model; every skip says why in one line.
    for step in result.steps:
        assert step.reason.startswith(f"{step.ref} - ") and "\n" not in step.reason
    for skip in result.skipped:
        assert skip.code and skip.reason and "\n" not in skip.reason


def test_reasons_read_like_the_product_says() -> None:
    steps = plan([OLLAMA, MINI], tokens=(100, 500)).steps
    assert steps[0].reason == "ollama:llama3.2:latest - local"
    assert steps[1].reason == "openai:gpt-4o-mini - cloud, up to $0.0003"
    fastest = plan([FLASH], policy="fastest", tokens=(100, 500)).steps[0].reason
    assert "first token p50 150 ms" in fastest and fastest.endswith("fastest")
    assert "quality tier 3" in plan([GPT4O], policy="best").steps[0].reason


def test_budget_message_says_what_to_change() -> None:
    skipped = plan([MINI], budget_left=0.0).skipped[0]
    assert skipped.code == "budget" and "general.monthly_budget_usd" in skipped.reason
    over = plan([GPT4O], budget_left=0.001, tokens=(100, 500)).skipped[0]
    assert "up to $0.0053" in over.reason and "$0.0010 left" in over.reason


def test_plan_is_pure() -> None:
    given = list(ALL)
    first = plan(given, policy="cheapest")
    assert given == ALL and plan(given, policy="cheapest") == first
