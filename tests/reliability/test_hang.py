"""Reliability 10: a provider that accepts and never answers holds nobody for long. With every cloud hung and Ollama
down, every policy answers from the embedded model after at most one cloud attempt; the hung provider is rested at
once; a named cloud model that hangs is one clear line. Asserted on who answered and on attempts and breaker rows;
pytest-timeout is the guard against a hang, wall time is never asserted."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from assistant.engine.accounting import cloud_chain
from assistant.providers.registry import Registry
from tests.conftest import CLOSED_PORT_URL
from tests.fakes.cloud import KEY
from tests.helpers import settings
from tests.reliability.support import assert_one_line_error, database, rows, run_cli

pytestmark = pytest.mark.slow  # subprocesses, real models or builds: outside the quick loop

CLOUDS = [ref for ref in cloud_chain(settings(), Registry().specs())]
DEADLINE = 2.0  # network.first_token_timeout for these tests (10 s by default)


class Hung:
    """A loopback server that accepts every connection, reads what is sent, and never answers."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0), backlog=32)
        self.accepted = 0
        self.held: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            self.held.append(conn)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


@contextmanager
def hung_clouds() -> Iterator[dict[str, Hung]]:
    servers = {ref.provider: Hung() for ref in CLOUDS}
    try:
        yield servers
    finally:
        for server in servers.values():
            server.close()


def _env(servers: dict[str, Hung]) -> dict[str, str]:
    env = {"OLLAMA_HOST": CLOSED_PORT_URL}
    for name, server in servers.items():
        spec = Registry().spec(name)
        env[spec.key_env[0]] = KEY
        env[spec.env["base_url"][0]] = server.url  # the path does not matter to a server that never answers
    return env


def _configure(home: Path, policy: str) -> None:
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "config.toml").write_text(
        f"[general]\npolicy = '{policy}'\n[network]\nfirst_token_timeout = {DEADLINE}\n", encoding="utf-8")


def _measured_clouds_fastest(home: Path) -> None:
    """Earlier answers in the calls table where every cloud model was faster than any local one."""
    from assistant.core.records import CallRecord
    from assistant.storage.calls import CallLog
    from assistant.storage.db import Database, open_database

    db = Database(open_database(database(home)).conn, database(home))
    log = CallLog(db.conn)
    for i, ref in enumerate(CLOUDS):
        log.record(CallRecord(f"r{i}", None, None, ref.provider, ref.model, "ok", 10, 10, 0.0, ttft_ms=50.0 + i,
                              total_ms=100.0, route_reason="earlier"))
    log.record(CallRecord("r9", None, None, "embedded", "smollm2", "ok", 10, 10, 0.0, ttft_ms=900.0, total_ms=2000.0,
                          route_reason="earlier"))
    db.close()
    # Long enough ago that a failure an hour later is not part of the same breaker window.
    conn = db.conn.__class__(str(database(home)))
    conn.execute("UPDATE calls SET created_at = created_at - 3600")
    conn.commit()
    conn.close()


def _ask(home: Path, env: dict[str, str], prompt: str) -> tuple[int, dict[str, object], str]:
    proc = run_cli(home, ["ask", "--json", "--max-tokens", "8", prompt], timeout=120, **env)
    return proc.returncode, dict(json.loads(proc.stdout.strip().splitlines()[-1])), proc.stderr


@pytest.mark.timeout(90)
@pytest.mark.parametrize("policy", ["local-first", "cheapest", "fastest", "best"])
def test_every_cloud_hung_and_ollama_down_the_embedded_model_answers(isolated_env: Path, policy: str) -> None:
    _configure(isolated_env, policy)
    if policy == "fastest":
        _measured_clouds_fastest(isolated_env)
    cloud_first = policy in ("fastest", "best")
    with hung_clouds() as servers:
        env = _env(servers)
        code, first, err = _ask(isolated_env, env, "Say hello.")
        code2, second, _ = _ask(isolated_env, env, "Say goodbye.")  # not the same question: no cache hit
        contacted = {name: s.accepted for name, s in servers.items()}
    for rc, answer in ((code, first), (code2, second)):
        assert rc == 0, err
        assert answer["provider"] == "embedded" and not answer["cached"] and str(answer["text"]).strip()
    attempts = [(a["model"], a["error"]) for a in first["attempts"]]  # type: ignore[attr-defined]
    later = [(a["model"], a["error"]) for a in second["attempts"]]  # type: ignore[attr-defined]
    if not cloud_first:  # the embedded model comes before any cloud: no cloud is even contacted
        assert attempts == later == [] and sum(contacted.values()) == 0
        return
    # One cloud attempt per request, abandoned at the deadline (no retries past it, no second cloud after it) ...
    assert len(attempts) == 1 and attempts[0][1] == "hang", attempts
    assert len(later) == 1 and later[0][1] == "hang", later
    # ... and the hung provider was rested at once: the next request went to another cloud, never back to it.
    hung_first, hung_next = attempts[0][0].split(":")[0], later[0][0].split(":")[0]
    assert hung_first != hung_next
    assert contacted[hung_first] == 1 and contacted[hung_next] == 1
    assert sum(contacted.values()) == 2
    calls = rows(database(isolated_env), "SELECT provider, outcome, error_kind FROM calls WHERE route_reason != 'earlier' "
                                         "OR route_reason IS NULL ORDER BY id")
    assert calls == [(hung_first, "error", "hang"), ("embedded", "ok", None),
                     (hung_next, "error", "hang"), ("embedded", "ok", None)]
    assert f"sent nothing for {DEADLINE:.0f} s" in err and "trying embedded:smollm2" in err
    assert f"answering with {attempts[0][0]}" not in err  # the plan's first choice failed: not claimed afterwards


@pytest.mark.timeout(60)
@pytest.mark.parametrize("ref", CLOUDS, ids=[r.provider for r in CLOUDS])
def test_a_named_cloud_model_that_hangs_fails_with_one_clear_line(isolated_env: Path, ref: object) -> None:
    _configure(isolated_env, "local-first")
    with hung_clouds() as servers:
        proc = run_cli(isolated_env, ["ask", "-m", str(ref), "Say hello."], timeout=60, **_env(servers))
        contacted = {name: s.accepted for name, s in servers.items()}
    line = assert_one_line_error(proc, str(ref), f"sent nothing for {DEADLINE:.0f} s", "network.first_token_timeout")
    assert "trying" not in line  # it was named: nothing else is tried, and nothing claims otherwise
    provider = str(ref).split(":")[0]
    assert contacted == {name: int(name == provider) for name in contacted}  # one request, no retries after it
    assert rows(database(isolated_env), "SELECT provider, outcome, error_kind FROM calls") == [(provider, "error", "hang")]


def test_hung_server_counts_what_it_accepts() -> None:
    """The fake itself: a client gets connected and then hears nothing."""
    server = Hung()
    try:
        client = socket.create_connection(("127.0.0.1", server.sock.getsockname()[1]), timeout=1)
        client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        client.settimeout(0.2)
        with pytest.raises(TimeoutError):
            client.recv(1)
        deadline = time.monotonic() + 2
        while server.accepted == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.accepted == 1
        client.close()
    finally:
        server.close()
