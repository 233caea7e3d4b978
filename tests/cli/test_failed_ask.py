"""A failed ask keeps the question but leaves no clutter: asking it again continues the same conversation,
`--continue` resumes the last conversation that got an answer, and `history list` marks the unanswered one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import CLOSED_PORT_URL
from tests.fakes.ollama import FakeOllama
from tests.reliability.support import MODEL, database, rows, run_cli

OLLAMA = f"ollama:{MODEL}"


def ask(home: Path, url: str, *args: str) -> dict[str, object]:
    proc = run_cli(home, ["ask", "--json", "-m", OLLAMA, *args], OLLAMA_HOST=url)
    return dict(json.loads(proc.stdout))


@pytest.mark.timeout(60)
def test_asking_again_after_a_failure_continues_the_same_conversation(isolated_env: Path) -> None:
    failed = ask(isolated_env, CLOSED_PORT_URL, "What is the capital of France?")
    assert failed["error"]["kind"] == "unavailable"  # type: ignore[index]
    with FakeOllama([MODEL], ["Paris."]) as server:
        answered = ask(isolated_env, server.url, "What is the capital of France?")
    assert answered["text"] == "Paris." and answered["conversation_id"] == failed["conversation_id"]
    db = database(isolated_env)
    assert rows(db, "SELECT count(*) FROM conversations") == [(1,)]
    assert rows(db, "SELECT role, content FROM messages ORDER BY id") == [
        ("user", "What is the capital of France?"), ("assistant", "Paris.")]


@pytest.mark.timeout(60)
def test_continue_skips_a_question_that_only_failed(isolated_env: Path) -> None:
    with FakeOllama([MODEL], ["Paris."]) as server:
        first = ask(isolated_env, server.url, "Capital of France?")
        failed = ask(isolated_env, CLOSED_PORT_URL, "Something else entirely")
        assert failed["conversation_id"] != first["conversation_id"]
        continued = ask(isolated_env, server.url, "--continue", "And of Spain?")
        sent = server.seen[-1].json()
    assert continued["conversation_id"] == first["conversation_id"]
    # The model sees the answered conversation, not the failed question from elsewhere.
    assert [m["content"] for m in sent["messages"]] == ["Capital of France?", "Paris.", "And of Spain?"]  # type: ignore[index]

    listed = run_cli(isolated_env, ["history", "list"]).stdout.splitlines()
    assert len(listed) == 2  # the failed question is kept (nothing typed is lost), and marked as unanswered
    assert listed[1].startswith(str(failed["conversation_id"])) and listed[1].endswith("(no answer)")
    assert not listed[0].endswith("(no answer)")


@pytest.mark.timeout(60)
def test_continue_with_nothing_answered_says_how_to_start(isolated_env: Path) -> None:
    ask(isolated_env, CLOSED_PORT_URL, "Only a failure so far")
    proc = run_cli(isolated_env, ["ask", "--continue", "-m", OLLAMA, "hello"])
    assert proc.returncode == 2 and "no earlier answered conversation" in proc.stderr and "--conversation" in proc.stderr


@pytest.mark.timeout(60)
def test_a_different_question_after_a_failure_starts_its_own_conversation(isolated_env: Path) -> None:
    failed = ask(isolated_env, CLOSED_PORT_URL, "First question")
    with FakeOllama([MODEL], ["Fine."]) as server:
        other = ask(isolated_env, server.url, "Second question")
    assert other["conversation_id"] != failed["conversation_id"]
    assert rows(database(isolated_env), "SELECT count(*) FROM messages WHERE role = 'user'") == [(2,)]
