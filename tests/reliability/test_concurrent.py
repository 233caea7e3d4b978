"""Reliability 2: two processes asking at once against one fresh database, 50 requests each: nothing locked, nothing lost."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from assistant.storage.migrations import MIGRATIONS
from tests.conftest import PYTHON, cli_env
from tests.reliability.support import MODEL, database, ollama, ollama_answer, rows

pytestmark = pytest.mark.slow  # subprocesses, real models or builds: outside the quick loop

REQUESTS = 50
# Each process runs the real CLI entry point 50 times: every request opens the database, asks, records, closes.
_WORKER = f"""
import contextlib, io, sys
from assistant.main import main

tag = sys.argv[1]
for i in range(int(sys.argv[2])):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["ask", "-m", "ollama:{MODEL}", f"{{tag}} question {{i}}"])
    print(code, repr(out.getvalue()), flush=True)
"""


@pytest.mark.timeout(120)
def test_two_processes_fifty_requests_each(isolated_env: Path) -> None:
    home = isolated_env
    with ollama(ollama_answer(["Paris", " is the", " capital."])) as server:
        env = cli_env(home, OLLAMA_HOST=server.url)
        procs = [subprocess.Popen([PYTHON, "-c", _WORKER, tag, str(REQUESTS)], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, env=env) for tag in ("alpha", "beta")]
        results = [p.communicate(timeout=100) for p in procs]
    for proc, (out, err) in zip(procs, results, strict=False):
        assert proc.returncode == 0, err
        assert "locked" not in err.lower() and "Traceback" not in err and "unexpected" not in err, err
        lines = out.splitlines()
        assert len(lines) == REQUESTS
        assert all(line == "0 'Paris is the capital.\\n'" for line in lines), lines

    db = database(home)
    assert rows(db, "PRAGMA integrity_check") == [("ok",)]
    asked = {r[0] for r in rows(db, "SELECT content FROM messages WHERE role = 'user'")}
    assert asked == {f"{tag} question {i}" for tag in ("alpha", "beta") for i in range(REQUESTS)}
    answers = rows(db, "SELECT content, status FROM messages WHERE role = 'assistant'")
    assert len(answers) == 2 * REQUESTS and set(answers) == {("Paris is the capital.", "complete")}
    calls = rows(db, "SELECT count(*), count(DISTINCT conversation_id) FROM calls WHERE outcome = 'ok'")
    assert calls == [(2 * REQUESTS, 2 * REQUESTS)]
    assert rows(db, "SELECT count(*) FROM response_cache") == [(2 * REQUESTS,)]
    # Both processes met a blank database at start-up; the schema was built exactly once.
    assert rows(db, "SELECT count(*) FROM _migrations") == [(len(MIGRATIONS),)]
