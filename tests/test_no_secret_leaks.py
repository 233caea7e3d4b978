"""A planted key must never appear in the database, cache, logs, exports, listings or any output of a full run."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import PYTHON, cli_env
from tests.fakes.openai import FakeOpenAI, error

pytestmark = pytest.mark.slow  # subprocesses, real models or builds: outside the quick loop

CANARY = "sk-proj-LEAKCANARY7f3a9c2e8b1d4f6a0c5eQ"
# Also catch partial leaks, e.g. the "sk-proj-LEAK*****c5eQ" style some providers echo back.
FRAGMENTS = (CANARY, CANARY[:12], CANARY[8:-4], CANARY[-12:])

# Simulates a bug after a real cloud call so the CLI writes its crash log (the traceback) to the log file.
_CRASH = """
import sys
from assistant.engine.chat import ChatRun
def broken(*args, **kwargs):
    raise RuntimeError("bookkeeping bug")
ChatRun._complete = broken
from assistant.main import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_planted_key_never_leaks(isolated_env: Path) -> None:
    home = isolated_env
    outputs: list[str] = []

    def run(*args: str, base_url: str, code: int = 0, script: str | None = None) -> subprocess.CompletedProcess[str]:
        env = cli_env(home, OPENAI_API_KEY=CANARY, OPENAI_BASE_URL=base_url)
        argv = [PYTHON, "-c", script, *args] if script else [PYTHON, "-m", "assistant", *args]
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
        outputs.extend([done.stdout, done.stderr])
        assert done.returncode == code, (args, done.stderr)
        return done

    with FakeOpenAI(pieces=["Paris", " is the", " capital."]) as good:
        first = json.loads(run("ask", "-m", "openai:gpt-4o-mini", "--json", "Capital of France?", base_url=good.base_url).stdout)
        again = json.loads(run("ask", "-m", "openai:gpt-4o-mini", "--json", "Capital of France?", base_url=good.base_url).stdout)
        run("ask", "-m", "openai:gpt-4o-mini", "--no-cache", "Capital of Italy?", base_url=good.base_url, code=1, script=_CRASH)
    assert first["text"] == "Paris is the capital." and not first["cached"] and again["cached"]
    assert good.seen[0].headers["authorization"] == f"Bearer {CANARY}"  # the key really was used

    # A gateway that echoes the whole key (and a provider that echoes part of it) in its error body.
    echo = [error(401, f"Incorrect API key provided: {CANARY}", "invalid_api_key"),
            error(400, f"Key {CANARY[:12]}*****{CANARY[-4:]} cannot use {CANARY}", "invalid_request_error")]
    with FakeOpenAI(replies=[echo[0], echo[0], echo[1], echo[1]]) as bad:
        failed = json.loads(run("ask", "-m", "openai:gpt-4o", "--json", "--no-cache", "Hi", base_url=bad.base_url, code=1).stdout)
        run("ask", "-m", "openai:gpt-4o", "--no-cache", "Hi again", base_url=bad.base_url, code=1)
        run("ask", "-m", "openai:gpt-4o", "--no-cache", "Third", base_url=bad.base_url, code=1)
    assert failed["error"]["kind"] == "auth"

    conversation = first["conversation_id"]
    closed = "http://127.0.0.1:9/v1"
    run("history", "list", "--json", base_url=closed)
    run("history", "show", conversation, "--json", base_url=closed)
    run("history", "search", "Paris", base_url=closed)
    run("history", "export", conversation, "--format", "json", base_url=closed)
    run("history", "export", conversation, "--format", "md", "-o", str(home / "export.md"), base_url=closed)
    run("keys", "list", base_url=closed)
    run("models", "--json", base_url=closed)

    files = [p for p in home.rglob("*") if p.is_file()]
    names = {p.name for p in files}
    assert "export.md" in names and "assistant.log" in names, names
    assert "bookkeeping bug" in next(p for p in files if p.name == "assistant.log").read_text()
    assert any(n.endswith(".db") or n.endswith(".sqlite") for n in names), names
    for path in files:
        data = path.read_bytes()
        for fragment in FRAGMENTS:
            assert fragment.encode() not in data, f"key fragment found in {path.relative_to(home)}"
    captured = "\n".join(outputs)
    assert "Paris is the capital." in captured and "Traceback" not in captured
    for fragment in FRAGMENTS:
        assert fragment not in captured
