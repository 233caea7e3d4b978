"""Reliability 4: every fault on a loopback fake ends in a correct answer (after retry or fallback) or one clear line."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import CLOSED_PORT_URL
from tests.fakes import anthropic as fake_anthropic
from tests.fakes import openai as fake_openai
from tests.fakes.cloud import KEY
from tests.fakes.ollama import chat_stream
from tests.fakes.server import FakeServer, Reply
from tests.reliability.support import (
    MODEL,
    NDJSON,
    assert_one_line_error,
    database,
    ollama,
    rows,
    run_cli,
)

Run = subprocess.CompletedProcess[str]
PIECES = ["Paris", " is the", " capital", " of", " France."]
ANSWER = "".join(PIECES)
SSE = "text/event-stream"
# Short timeouts and few retries keep every fault bounded to a few seconds; Retry-After is still honoured up to 2 s.
CONFIG = """
[network]
connect_timeout = 1.0
read_timeout = 1.0
max_retries = {retries}
retry_max_wait = 2.0
"""


def configure(home: Path, retries: int = 2) -> None:
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "config.toml").write_text(CONFIG.format(retries=retries), encoding="utf-8")


def ask_openai(home: Path, server_url: str, *extra: str) -> Run:
    return run_cli(home, ["ask", "-m", "openai:gpt-4o-mini", *extra, "What is the capital of France?"], timeout=30,
                   OPENAI_API_KEY=KEY, OPENAI_BASE_URL=server_url)


def error_lines(stderr: str) -> list[str]:
    """Messages that are not retry notices (nor the route-and-cost line of a finished answer)."""
    return [line for line in stderr.splitlines() if line.startswith("assistant: ") and "Retrying in" not in line]


def assert_answered_after_retry(proc: Run, server: FakeServer, attempts: int) -> None:
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ANSWER + "\n"
    assert "Traceback" not in proc.stderr and error_lines(proc.stderr) == []
    assert len(server.seen) == attempts


def assert_clear_failure(proc: Run, *needles: str) -> None:
    assert proc.returncode == 1
    assert_one_line_error(proc, *needles)
    assert KEY not in proc.stderr + proc.stdout


# Cloud faults (OpenAI's and Anthropic's wire protocols) --------------------------------------------------------------

@pytest.mark.timeout(60)
def test_connection_refused(isolated_env: Path) -> None:
    configure(isolated_env)
    assert_clear_failure(ask_openai(isolated_env, CLOSED_PORT_URL + "/v1"), "cannot reach openai")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("reply, retries, needles, attempts", [
    (fake_openai.error(401, f"Incorrect API key provided: {KEY[:8]}****{KEY[-4:]}", "invalid_api_key"), 2,
     ("rejected the api key", "assistant keys set openai"), 1),
    (fake_openai.error(404, "The model `gpt-4o-mini` does not exist", "model_not_found"), 2, ("has no model",), 1),
    (fake_openai.error(503, "Service Unavailable", "server_error", "server_error"), 1, ("overloaded",), 2),
], ids=["401-not-retried", "404-unknown-model", "503-persisting"])
def test_cloud_error_ends_in_one_clear_line(isolated_env: Path, reply: Reply, retries: int, needles: tuple[str, ...],
                                            attempts: int) -> None:
    configure(isolated_env, retries)
    with fake_openai.FakeOpenAI(replies=[reply]) as server:
        proc = ask_openai(isolated_env, server.base_url)
    assert_clear_failure(proc, *needles)
    assert len(server.seen) == attempts and KEY[-4:] not in proc.stderr  # not even the part the provider quoted


@pytest.mark.timeout(60)
@pytest.mark.parametrize("first, notice", [
    (fake_openai.error(429, "Rate limit reached", "rate_limit_exceeded", "requests", headers={"retry-after": "1"}),
     "Retrying in 1.0s"),  # the server's Retry-After, not our own backoff
    (fake_openai.error(500, "The server had an error while processing your request.", "server_error", "server_error"), "Retrying"),
    (fake_openai.error(503, "Service Unavailable", "server_error", "server_error"), "Retrying"),
    (Reply(200, fake_openai.chat_stream(PIECES), content_type=SSE, hang=3.0), "read_timeout"),  # past read_timeout = 1 s
], ids=["429-retry-after", "500", "503", "hang-past-timeout"])
def test_transient_fault_is_retried_then_answers(isolated_env: Path, first: Reply, notice: str) -> None:
    configure(isolated_env)
    with fake_openai.FakeOpenAI(replies=[first, Reply(200, fake_openai.chat_stream(PIECES), content_type=SSE)]) as server:
        proc = ask_openai(isolated_env, server.base_url)
    assert_answered_after_retry(proc, server, 2)
    assert notice in proc.stderr


@pytest.mark.timeout(60)
def test_anthropic_529_overloaded_is_retried_then_answers(isolated_env: Path) -> None:
    configure(isolated_env)
    replies = [fake_anthropic.error(529, "overloaded_error", "Overloaded"),
               Reply(200, fake_anthropic.message_stream(PIECES), content_type=SSE)]
    with fake_anthropic.FakeAnthropic(replies=replies) as server:
        proc = run_cli(isolated_env, ["ask", "-m", "anthropic:claude-haiku-4-5", "What is the capital of France?"],
                       timeout=30, ANTHROPIC_API_KEY=KEY, ANTHROPIC_BASE_URL=server.base_url)
    assert_answered_after_retry(proc, server, 2)


@pytest.mark.timeout(60)
def test_stream_cut_halfway_keeps_the_partial_answer(isolated_env: Path) -> None:
    configure(isolated_env)
    with fake_openai.FakeOpenAI(replies=[Reply(200, fake_openai.chat_stream(PIECES), content_type=SSE, cut_after=3)]) as server:
        proc = ask_openai(isolated_env, server.base_url)
    assert_clear_failure(proc, "dropped")
    assert proc.stdout == "Paris is the\n" and len(server.seen) == 1  # never retried once text was shown
    kept = rows(database(isolated_env), "SELECT content, status FROM messages WHERE role = 'assistant'")
    assert kept == [("Paris is the", "interrupted")]


@pytest.mark.timeout(60)
def test_malformed_json_in_the_stream(isolated_env: Path) -> None:
    configure(isolated_env)
    good = fake_openai.chat_stream(PIECES)
    broken = good[:2] + [b'data: {"choices": [{"index": 0, "delta": {"content": "tru\n\n'] + good[2:]
    with fake_openai.FakeOpenAI(replies=[Reply(200, broken, content_type=SSE)]) as server:
        proc = ask_openai(isolated_env, server.base_url, "--json")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert json.loads(proc.stdout)["error"]["kind"] == "malformed"
    assert_clear_failure(proc, "not json")


# Ollama faults (its NDJSON protocol), including fallback to the embedded model ------------------------------------------

@pytest.mark.timeout(60)
def test_ollama_refused_when_named_is_one_message(isolated_env: Path) -> None:
    proc = run_cli(isolated_env, ["ask", "-m", f"ollama:{MODEL}", "hi"], timeout=30)
    assert_clear_failure(proc, "ollama is not running", "ollama serve")


@pytest.mark.timeout(60)
def test_ollama_hang_past_the_timeout_is_one_message(isolated_env: Path) -> None:
    configure(isolated_env, retries=1)
    with ollama(Reply(200, chat_stream(MODEL, PIECES), content_type=NDJSON, hang=4.0)) as server:
        proc = run_cli(isolated_env, ["ask", "-m", f"ollama:{MODEL}", "hi"], timeout=30, OLLAMA_HOST=server.url)
    assert_clear_failure(proc, "did not answer in time")


@pytest.mark.timeout(60)
def test_ollama_stream_cut_and_malformed_line(isolated_env: Path) -> None:
    configure(isolated_env)
    lines = chat_stream(MODEL, PIECES)
    broken = lines[:2] + [b'{"model": "x", "message": {"content": \n'] + lines[2:]
    with ollama([Reply(200, lines, content_type=NDJSON, cut_after=2), Reply(200, broken, content_type=NDJSON)]) as server:
        cut = run_cli(isolated_env, ["ask", "-m", f"ollama:{MODEL}", "one"], timeout=30, OLLAMA_HOST=server.url)
        bad = run_cli(isolated_env, ["ask", "-m", f"ollama:{MODEL}", "two"], timeout=30, OLLAMA_HOST=server.url)
    assert_clear_failure(cut, "dropped")
    assert cut.stdout == "Paris is the\n"
    assert_clear_failure(bad, "could not be read")
    assert bad.stdout == "Paris is the\n"


@pytest.mark.timeout(90)
@pytest.mark.slow
def test_ollama_500_falls_back_to_the_embedded_model(isolated_env: Path) -> None:
    configure(isolated_env, retries=1)
    with ollama(Reply.json({"error": "llama runner process has terminated: signal: killed"}, 500)) as server:
        proc = run_cli(isolated_env, ["ask", "--local-only", "--json", "--max-tokens", "8", "Say hello."], timeout=80,
                       OLLAMA_HOST=server.url)
    assert proc.returncode == 0, proc.stderr
    answer = json.loads(proc.stdout)
    assert answer["provider"] == "embedded" and answer["text"].strip()
    assert [a["model"] for a in answer["attempts"]][-1].startswith("ollama:")
    assert "Traceback" not in proc.stderr and "trying embedded:smollm2" in proc.stderr
