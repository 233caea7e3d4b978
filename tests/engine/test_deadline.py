"""The first-token deadline for cloud models: one budget per request, started by the first cloud attempt, retries only
within what is left, a hang rests its provider at once, and local models are never cut off by it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from assistant.core.errors import Overloaded, RateLimited
from assistant.core.types import ChatRequest, ProviderRequest
from assistant.providers.base import Chunk
from tests.helpers import ScriptedProvider, collect, finished, make_engine, settings, text_of

BUDGET = 0.3


class Slow(ScriptedProvider):
    """Waits `seconds` before playing its script (an error or text); waits forever when `seconds` is None."""

    def __init__(self, name: str, scripts: list[Any], seconds: float | None, **kw: Any) -> None:
        super().__init__(name, scripts, **kw)
        self.seconds = seconds

    async def stream(self, request: ProviderRequest) -> AsyncIterator[Chunk]:
        if self.seconds is None:
            self.requests.append(request)
            await asyncio.Event().wait()
        await asyncio.sleep(self.seconds or 0)
        async for chunk in super().stream(request):
            yield chunk


def cfg(policy: str = "local-first", retries: int = 2) -> Any:
    return settings(general={"policy": policy}, network={"first_token_timeout": BUDGET, "max_retries": retries,
                                                        "retry_max_wait": 60.0})


@pytest.mark.timeout(20)
async def test_a_slow_local_failure_leaves_the_cloud_its_whole_budget(tmp_path: Path) -> None:
    local = Slow("ollama", [Overloaded("model runner crashed", provider="ollama")], BUDGET * 2, local=True,
                 model="llama3.2:latest")
    cloud = ScriptedProvider("openai", [["Paris."]], local=False, model="gpt-4o-mini")
    engine = make_engine(tmp_path, [local, cloud], cfg(retries=0))
    events = await collect(engine, ChatRequest("Capital of France?"))
    await engine.aclose()
    answer = finished(events).answer
    assert (answer.provider, text_of(events)) == ("openai", "Paris.")
    assert [(a.ref.provider, a.error_kind) for a in answer.attempts] == [("ollama", "overloaded")]


@pytest.mark.timeout(20)
async def test_a_retry_is_only_waited_for_within_what_is_left(tmp_path: Path) -> None:
    limited = RateLimited("slow down", provider="openai", retry_after=30.0)
    first = ScriptedProvider("openai", [limited, ["never asked twice"]], local=False, model="gpt-4o-mini")
    second = ScriptedProvider("anthropic", [["Paris."]], local=False, model="claude-haiku-4-5")
    engine = make_engine(tmp_path, [first, second], cfg("cheapest"))
    events = await collect(engine, ChatRequest("Capital of France?"))
    await engine.aclose()
    answer = finished(events).answer
    assert answer.provider == "anthropic" and len(first.requests) == 1  # a 30 s wait never fits in 0.3 s
    assert [(a.ref.provider, a.error_kind) for a in answer.attempts] == [("openai", "rate_limited")]


@pytest.mark.timeout(20)
async def test_a_hang_rests_its_provider_and_the_budget_ends_the_cloud_tries(tmp_path: Path) -> None:
    hung = Slow("openai", [["never"]], None, local=False, model="gpt-4o-mini")
    also_hung = Slow("anthropic", [["never"]], None, local=False, model="claude-haiku-4-5")
    local = Slow("embedded", [["Hello."]], BUDGET * 2, local=True, model="smollm2")  # slower than the budget
    engine = make_engine(tmp_path, [hung, also_hung, local], cfg("best"))
    events = await collect(engine, ChatRequest("Say hello."))
    answer = finished(events).answer
    # The first cloud used the whole budget; the second was not tried; the local model was not cut off by it.
    assert (answer.provider, text_of(events)) == ("embedded", "Hello.")
    assert [(a.ref.provider, a.error_kind) for a in answer.attempts] == [("openai", "hang")]
    assert len(hung.requests) == 1 and also_hung.requests == []
    assert engine.health.resting("openai") and not engine.health.resting("anthropic")
    again = await collect(engine, ChatRequest("Say hello again."))
    await engine.aclose()
    assert [(a.ref.provider, a.error_kind) for a in finished(again).answer.attempts] == [("anthropic", "hang")]
    assert len(hung.requests) == 1  # rested: not asked again
