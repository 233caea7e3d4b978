"""Reliability 8: offline (clouds black-holed or refused, no Ollama), the embedded model answers at once."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import CLOSED_PORT_URL
from tests.fakes.cloud import KEY
from tests.reliability.support import database, rows, run_cli

pytestmark = pytest.mark.slow  # subprocesses, real models or builds: outside the quick loop


@pytest.fixture
def blackhole() -> Iterator[socket.socket]:
    """A loopback port that completes no exchange: it listens but never accepts, reads or answers."""
    sock = socket.create_server(("127.0.0.1", 0), backlog=8)
    try:
        yield sock
    finally:
        sock.close()


def _connections_made(sock: socket.socket) -> int:
    sock.setblocking(False)
    count = 0
    while True:
        try:
            conn, _ = sock.accept()
        except BlockingIOError:
            return count
        conn.close()
        count += 1


@pytest.mark.timeout(90)
@pytest.mark.parametrize("policy", ["local-first", "cheapest"])
def test_offline_answer_comes_from_the_embedded_model(isolated_env: Path, blackhole: socket.socket, policy: str) -> None:
    home = isolated_env
    (home / "config").mkdir(parents=True)
    (home / "config" / "config.toml").write_text(f"[general]\npolicy = '{policy}'\n", encoding="utf-8")
    dropped = f"http://127.0.0.1:{blackhole.getsockname()[1]}"
    proc = run_cli(home, ["ask", "--json", "--max-tokens", "8", "Say hello."], timeout=80,
                   OPENAI_BASE_URL=dropped + "/v1", GEMINI_BASE_URL=dropped, ANTHROPIC_BASE_URL=CLOSED_PORT_URL,
                   OPENAI_API_KEY=KEY, ANTHROPIC_API_KEY=KEY, GEMINI_API_KEY=KEY, OLLAMA_HOST=CLOSED_PORT_URL)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    answer = json.loads(proc.stdout)
    assert answer["provider"] == "embedded" and answer["text"].strip()
    # Nothing was tried and abandoned before the embedded model spoke: no failed attempt, no cloud call recorded.
    assert answer["attempts"] == []
    assert rows(database(home), "SELECT provider, outcome FROM calls") == [("embedded", "ok")]
    assert _connections_made(blackhole) == 0  # not even a connection was opened to the black-holed cloud
