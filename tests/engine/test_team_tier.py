"""The team tier in the engine, against a real redis-server: two machines share answers, outages cost nothing."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from assistant.bench.redis_server import RedisServer
from assistant.core.types import ChatRequest, Usage
from assistant.engine.engine import Engine
from assistant.engine.tiers import ORDER, Hit, Lookup, Tiers
from tests.conftest import needs_redis
from tests.helpers import ScriptedProvider, collect, finished, make_engine, settings

pytestmark = needs_redis

SECRET = {"ASSISTANT_TEAM_SECRET": "a long random team secret"}
QUESTION = "What is the capital of France?"


def ollama(text: str = "Paris.") -> ScriptedProvider:
    return ScriptedProvider("ollama", [[text, Usage(10, 2)]], model="llama3.2:latest")


def machine(home: Path, server: RedisServer, provider: ScriptedProvider, environ: dict[str, str] | None = None,
            **team: Any) -> Engine:
    # Generous timeouts: the machine running the tests is shared, and nothing here is about speed.
    cfg = settings(team={"cache_url": server.url, "share": True, "read_timeout_ms": 2000,
                         "connect_timeout_ms": 2000, **team})
    return make_engine(home, [provider], cfg, SECRET if environ is None else environ)


async def ask(engine: Engine, prompt: str = QUESTION, **kwargs: Any) -> Any:
    return finished(await collect(engine, ChatRequest(prompt, **kwargs))).answer


async def shared_by_first(tmp_path: Path, server: RedisServer) -> None:
    first = machine(tmp_path / "alice", server, ollama())
    assert (await ask(first)).cache is None
    await first.aclose()  # waits for the queued write


async def test_a_second_machine_is_answered_from_the_team_cache_free_and_counted(tmp_path: Path,
                                                                                 redis_server: RedisServer) -> None:
    await shared_by_first(tmp_path, redis_server)
    model = ollama("never asked")
    second = machine(tmp_path / "bob", redis_server, model)
    hit = await ask(second)
    assert (hit.cached, hit.cache, hit.text, hit.cost_usd) == (True, "team", "Paris.", 0.0)
    assert "from the team cache" in hit.route_reason and model.requests == []
    row = second.conn.execute("SELECT saved_source, cached FROM calls WHERE outcome = 'ok'").fetchone()
    assert tuple(row) == ("team", 1)
    again = await ask(second)
    assert again.cache == "exact"  # copied into the local tiers
    status = second.team_status()
    assert status is not None and (status.state, status.hits, status.misses) == ("connected", 1, 0)
    await second.aclose()
    assert dict(second.conn.execute("SELECT name, value FROM team_counts").fetchall())["hits"] == 1


async def test_a_private_request_neither_reads_nor_writes_the_team_cache(tmp_path: Path,
                                                                         redis_server: RedisServer) -> None:
    await shared_by_first(tmp_path, redis_server)
    model = ollama("Paris, privately.")
    second = machine(tmp_path / "bob", redis_server, model)
    private = await ask(second, private=True)
    assert private.cache is None and private.text == "Paris, privately." and len(model.requests) == 1
    secret_question = await ask(second, "Something only for me", private=True)
    # The conversation stays private: a follow-up without the flag is kept out too.
    follow = await ask(second, "And another", conversation_id=secret_question.conversation_id)
    assert follow.cache is None
    await second.aclose()
    status = second.team_status()
    assert status is not None and (status.hits, status.misses, status.writes) == (0, 0, 0)
    import redis

    keys = redis.Redis.from_url(redis_server.url).keys("*")
    assert len(keys) == 1  # only the first machine's answer is on the server


async def test_server_killed_mid_run_answers_keep_coming_then_sharing_resumes(tmp_path: Path,
                                                                              redis_server: RedisServer) -> None:
    await shared_by_first(tmp_path, redis_server)
    model = ScriptedProvider("ollama", [[f"answer {i}", Usage(5, 2)] for i in range(20)], model="llama3.2:latest")
    bob = machine(tmp_path / "bob", redis_server, model, cooldown_s=0.3)
    assert (await ask(bob)).cache == "team"
    redis_server.kill()
    answers = [await ask(bob, f"question {i} while the server is down") for i in range(5)]
    assert [a.cache for a in answers] == [None] * 5 and all(a.text.startswith("answer") for a in answers)
    status = bob.team_status()
    assert status is not None and status.state == "down"
    # One lookup met the dead server (its failure opened the breaker); every later one was answered at once.
    assert status.errors >= 1 and status.skipped + status.late >= 4 - 1 and status.hits == 1
    redis_server.start()
    deadline = time.monotonic() + 20
    while (bob.team_status() or status).state != "connected" and time.monotonic() < deadline:
        await collect(bob, ChatRequest("keep asking", use_cache=False))
        time.sleep(0.05)
    assert (bob.team_status() or status).state == "connected"
    await ask(bob, "shared after the restart")
    await bob.aclose()
    carol = machine(tmp_path / "carol", redis_server, ollama("never asked"))
    assert (await ask(carol, "shared after the restart")).cache == "team"
    await carol.aclose()


async def test_an_entry_planted_without_the_secret_is_never_served(tmp_path: Path, redis_server: RedisServer) -> None:
    mallory = machine(tmp_path / "mallory", redis_server, ollama("Lyon."), {"ASSISTANT_TEAM_SECRET": "a guess"})
    assert (await ask(mallory)).text == "Lyon."
    await mallory.aclose()
    model = ollama("Paris.")
    bob = machine(tmp_path / "bob", redis_server, model)
    answer = await ask(bob)
    assert (answer.text, answer.cache) == ("Paris.", None) and len(model.requests) == 1
    status = bob.team_status()
    assert status is not None and status.tampered == 1 and "forged" in status.last_error
    await bob.aclose()
    assert dict(bob.conn.execute("SELECT name, value FROM team_counts").fetchall())["tampered"] == 1


async def test_without_the_secret_the_tier_is_off_and_the_answer_comes_anyway(tmp_path: Path,
                                                                              redis_server: RedisServer) -> None:
    bob = machine(tmp_path / "bob", redis_server, ollama(), environ={})
    assert (await ask(bob)).text == "Paris."
    status = bob.team_status()
    assert status is not None and status.state == "off" and "assistant keys set team" in status.last_error
    await bob.aclose()


async def test_a_bad_team_url_is_a_notice_not_a_failure(tmp_path: Path) -> None:
    cfg = settings(team={"cache_url": "http://cache:6379"})
    engine = make_engine(tmp_path, [ollama()], cfg, SECRET)
    assert any("team cache is off" in n and "redis://" in n for n in engine.notices)
    assert (await ask(engine)).text == "Paris."
    status = engine.team_status()
    assert status is not None and status.state == "misconfigured"
    await engine.aclose()


def test_the_tiers_keep_their_order_whatever_order_they_are_added_in() -> None:
    class Named:
        def __init__(self, name: str) -> None:
            self.name = name

        async def lookup(self, lookup: Lookup) -> Hit | None:
            return None

        def keep(self, *args: object) -> None:
            return None

        def adopt(self, hit: Hit) -> None:
            return None

    tiers = Tiers([Named("semantic"), Named("other"), Named("exact")])  # type: ignore[list-item]
    tiers.add(Named("team"))  # type: ignore[arg-type]
    assert [t.name for t in tiers.tiers] == [*ORDER, "other"]


@pytest.mark.parametrize("share", [False])
async def test_reading_needs_no_sharing(tmp_path: Path, redis_server: RedisServer, share: bool) -> None:
    await shared_by_first(tmp_path, redis_server)
    reader = machine(tmp_path / "bob", redis_server, ollama("unused"), share=share)
    assert (await ask(reader)).cache == "team"
    assert (await ask(reader, "a new question")).cache is None
    await reader.aclose()
    status = reader.team_status()
    assert status is not None and status.writes == 0 and not status.sharing


async def test_a_store_that_stops_answering_costs_one_wait_then_nothing(tmp_path: Path) -> None:
    import socket

    with socket.socket() as hung:  # accepts connections (the kernel's backlog) and never says a word
        hung.bind(("127.0.0.1", 0))
        hung.listen(64)
        cfg = settings(team={"cache_url": f"redis://127.0.0.1:{hung.getsockname()[1]}/0", "read_timeout_ms": 50,
                             "cooldown_s": 600})
        model = ScriptedProvider("ollama", [[f"answer {i}", Usage(5, 2)] for i in range(3)], model="llama3.2:latest")
        engine = make_engine(tmp_path, [model], cfg, SECRET)
        answers = [await ask(engine, f"question {i}") for i in range(3)]
        assert [a.text for a in answers] == ["answer 0", "answer 1", "answer 2"]
        status = engine.team_status()
        # The first lookup waited (at most read_timeout_ms) and opened the breaker; the others never waited.
        assert status is not None and status.state == "down" and "did not answer within 50 ms" in status.last_error
        assert (status.skipped, status.hits, status.misses) == (2, 0, 0)
        await engine.aclose()
