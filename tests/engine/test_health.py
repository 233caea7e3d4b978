"""The circuit breaker: opens after repeated failures, rests the provider, then lets exactly one trial through."""

from __future__ import annotations

from pathlib import Path

from assistant.core.records import CallRecord
from assistant.engine.health import Health
from assistant.storage.calls import CallLog
from assistant.storage.db import open_database


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_opens_after_threshold_and_rests() -> None:
    clock = Clock()
    health = Health(threshold=3, cooldown=30, clock=clock)
    for _ in range(2):
        health.failure("openai", "rate_limited", "OpenAI rate limit reached; wait a minute")
    assert not health.resting("openai")
    health.failure("openai", "overloaded", "OpenAI is overloaded; try later")
    assert health.resting("openai")
    assert health.detail("openai") == "openai failed 3 times in a row (OpenAI is overloaded); resting it for 30s more"
    clock.now += 29
    assert health.resting("openai")


def test_one_trial_after_cooldown_then_close_or_reopen() -> None:
    clock = Clock()
    health = Health(threshold=2, cooldown=10, clock=clock)
    health.failure("gemini", "timeout")
    health.failure("gemini", "timeout")
    clock.now += 10
    assert not health.resting("gemini")  # the cool-down is over: one request may go
    health.begin("gemini")
    assert health.resting("gemini")  # ...and only one: the others keep skipping it while the trial runs
    health.failure("gemini", "timeout")  # the trial failed: rest again from now
    assert health.resting("gemini") and health.state("gemini").opened_at == clock.now
    clock.now += 10
    health.begin("gemini")
    health.success("gemini")
    assert not health.resting("gemini") and health.state("gemini").failures == 0


def test_an_abandoned_trial_can_be_retried() -> None:
    clock = Clock()
    health = Health(threshold=1, cooldown=5, clock=clock)
    health.failure("anthropic", "connection")
    clock.now += 5
    health.begin("anthropic")
    health.abandon("anthropic")  # the user pressed Esc: the trial proved nothing
    assert not health.resting("anthropic")


def test_request_errors_do_not_count() -> None:
    health = Health(threshold=1)
    health.failure("openai", "bad_request")
    health.failure("openai", "model_not_found")
    health.failure("openai", "budget")
    assert not health.resting("openai")
    health.failure("openai", "unavailable")
    assert health.resting("openai")


def test_success_resets_the_count() -> None:
    health = Health(threshold=2)
    health.failure("ollama", "timeout")
    health.success("ollama")
    health.failure("ollama", "timeout")
    assert not health.resting("ollama")


def test_seed_from_calls_table(tmp_path: Path) -> None:
    conn = open_database(tmp_path / "h.db").conn
    calls = CallLog(conn)
    for i in range(3):
        calls.record(CallRecord(f"r{i}", None, None, "openai", "gpt-4o-mini", "error", error_kind="overloaded"))
    calls.record(CallRecord("r9", None, None, "anthropic", "claude-haiku-4-5", "error", error_kind="timeout"))
    calls.record(CallRecord("r9", None, None, "anthropic", "claude-haiku-4-5", "ok"))
    calls.record(CallRecord("r8", None, None, "gemini", "x", "error", error_kind="bad_request"))
    health = Health(threshold=3, cooldown=60)
    health.replay(calls.recent_outcomes(health.clock() - health.window()))
    assert health.resting("openai") and "overloaded" in health.detail("openai")
    assert not health.resting("anthropic") and not health.resting("gemini")
    later = Health(threshold=3, cooldown=60, clock=lambda: 10**10)
    later.replay(calls.recent_outcomes(later.clock() - later.window()))  # old failures are forgotten
    assert not later.resting("openai")
