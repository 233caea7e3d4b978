"""Two installs sharing one team cache through the real CLI (subprocesses, two ASSISTANT_HOMEs, a real redis-server):
the second is answered from the team cache, free and counted; an outage costs nothing; a forged entry is never shown."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from assistant.bench.redis_server import RedisServer
from tests.conftest import PYTHON, cli_env, needs_redis
from tests.fakes.ollama import FakeOllama

pytestmark = needs_redis

SECRET = "a long random team secret"
QUESTION = "What is the capital of France?"


def install(root: Path, name: str, server: RedisServer, ollama: FakeOllama, **team: Any) -> dict[str, str]:
    """A home of its own with a [team] table in its config.toml; the team secret in the environment."""
    home = root / name
    (home / "config").mkdir(parents=True)
    secret = team.pop("secret", SECRET)
    # Generous timeouts: the test machine is shared; the timeout itself is the bench's business.
    table = {"cache_url": server.url, "share": True, "read_timeout_ms": 2000, "connect_timeout_ms": 2000,
             "cooldown_s": 0.3, **team}
    lines = ["[team]"] + [f"{k} = {json.dumps(v)}" for k, v in table.items()]
    (home / "config" / "config.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return cli_env(home, OLLAMA_HOST=ollama.url, ASSISTANT_TEAM_SECRET=secret)


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([PYTHON, "-m", "assistant", *args], capture_output=True, text=True, env=env, timeout=120)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def ask(env: dict[str, str], prompt: str = QUESTION, *extra: str) -> dict[str, Any]:
    done = cli(env, "ask", "--json", *extra, prompt)
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def team_stats(env: dict[str, str]) -> dict[str, Any]:
    return dict(json.loads(cli(env, "cache", "stats", "--json").stdout)["team"])


def chats(ollama: FakeOllama) -> int:
    return sum(1 for s in ollama.seen if s.path == "/api/chat")


@pytest.mark.slow
def test_the_second_install_is_answered_from_the_team_cache(tmp_path: Path, redis_server: RedisServer) -> None:
    with FakeOllama(pieces=["Paris", "."]) as ollama:
        alice, bob = (install(tmp_path, n, redis_server, ollama) for n in ("alice", "bob"))
        first = ask(alice)
        assert (first["cache"], first["text"]) == (None, "Paris.") and chats(ollama) == 1
        second = ask(bob)
        assert (second["cached"], second["cache"], second["text"], second["cost_usd"]) == (True, "team", "Paris.", 0)
        assert "from the team cache" in second["route"] and chats(ollama) == 1  # nobody was asked
        stats = team_stats(bob)
        assert (stats["state"], stats["all_time"]["hits"], stats["all_time"]["tampered"]) == ("connected", 1, 0)
        shown = cli(bob, "history", "show", second["conversation_id"]).stdout
        assert "ollama:llama3.2:latest · from the team cache" in shown
        savings = json.loads(cli(bob, "savings", "--json").stdout)
        # A local model's answer, credited at the cloud baseline's price for its tokens, under its own source.
        assert savings["cache_hits"] == 1 and savings["saved_by_source"]["team"] == savings["saved_usd"] > 0
        text = cli(bob, "cache", "stats").stdout
        assert f"team       connected at {redis_server.url}; sharing this install's answers" in text

        private = ask(bob, "A question of my own", "--private")
        assert private["cache"] is None and team_stats(bob)["all_time"]["writes"] == 0
        again = ask(bob, "A question of my own", "--private")  # this machine's own cache, before any engine
        assert again["cache"] == "exact"
        listed = json.loads(cli(bob, "history", "list", "--json").stdout)
        assert listed[0]["id"] == again["conversation_id"] and listed[0]["private"] is True


@pytest.mark.slow
def test_killed_mid_run_answers_keep_coming_and_sharing_resumes(tmp_path: Path, redis_server: RedisServer) -> None:
    with FakeOllama(pieces=["An", " answer."]) as ollama:
        alice, bob = (install(tmp_path, n, redis_server, ollama) for n in ("alice", "bob"))
        ask(alice)
        assert ask(bob)["cache"] == "team"
        redis_server.kill()
        outage = [ask(bob, f"question {i} during the outage") for i in range(3)]
        assert [(a["cache"], a["text"]) for a in outage] == [(None, "An answer.")] * 3
        stats = team_stats(bob)  # probes the dead server itself
        assert stats["state"] == "down" and "cannot use" in stats["last_error"]
        counts = stats["all_time"]
        # Each process met the dead server once (refused at once; its breaker opened) and nothing was late.
        assert counts["hits"] == 1 and counts["late"] == 0 and counts["errors"] >= 3 and counts["writes"] == 0
        redis_server.start()
        assert ask(alice, "asked after the restart")["cache"] is None
        assert ask(bob, "asked after the restart")["cache"] == "team"
        assert team_stats(bob)["state"] == "connected"


@pytest.mark.slow
def test_an_entry_planted_with_a_wrong_secret_is_never_served(tmp_path: Path, redis_server: RedisServer) -> None:
    with FakeOllama(pieces=["Paris."]) as ollama:
        mallory = install(tmp_path, "mallory", redis_server, ollama, secret="a guessed secret")
        bob = install(tmp_path, "bob", redis_server, ollama)
        assert ask(mallory)["cache"] is None
        answer = ask(bob)
        assert answer["cache"] is None and chats(ollama) == 2  # answered fresh, not from the planted entry
        stats = team_stats(bob)
        assert stats["all_time"]["tampered"] == 1 and stats["all_time"]["hits"] == 0
