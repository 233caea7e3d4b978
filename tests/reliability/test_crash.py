"""Reliability 1: `kill -9` while an answer streams keeps the question and what arrived (but the last batch), 20 times."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time
from pathlib import Path

import pytest

from assistant.storage.db import open_database
from tests.conftest import PYTHON, cli_env
from tests.reliability.support import MODEL, database, ollama, ollama_answer

pytestmark = pytest.mark.slow  # subprocesses, real models or builds: outside the quick loop

RUNS = 20
PIECES = [f"word{i} " for i in range(300)]
FULL = "".join(PIECES)


def _read_until(proc: subprocess.Popen[bytes], size: int, deadline: float) -> bytes:
    """What the answer printed once at least `size` bytes of it have appeared on stdout."""
    assert proc.stdout is not None
    seen = b""
    while len(seen) < size:
        left = deadline - time.monotonic()
        assert left > 0 and proc.poll() is None, f"the answer stopped early: {seen!r} {proc.stderr.read() if proc.stderr else ''}"
        ready, _, _ = select.select([proc.stdout], [], [], left)
        if ready:
            seen += os.read(proc.stdout.fileno(), 65536)
    return seen


@pytest.mark.timeout(150)
def test_kill_9_mid_answer_keeps_question_and_partial_answer(isolated_env: Path) -> None:
    home = isolated_env
    with ollama(ollama_answer(PIECES, delay=0.01)) as server:
        env = cli_env(home, OLLAMA_HOST=server.url)
        for run in range(RUNS):
            question = f"Question number {run}: tell me a long story."
            proc = subprocess.Popen([PYTHON, "-m", "assistant", "ask", "-m", f"ollama:{MODEL}", question],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
            try:
                # Kill at a different point each run: after 1 to ~3/4 of the answer's first 100 words.
                seen = _read_until(proc, 1 + (run * 37) % 600, time.monotonic() + 30).decode()
                os.kill(proc.pid, signal.SIGKILL)
            finally:
                if proc.poll() is None:
                    proc.kill()
                proc.wait(10)  # reaped, so the crash-recovery liveness check sees the pid as gone
                for stream in (proc.stdout, proc.stderr):
                    if stream is not None:
                        stream.close()
            assert proc.returncode == -signal.SIGKILL

            opened = open_database(database(home))  # the next start-up runs crash recovery
            conn = opened.conn
            try:
                assert opened.moved_aside is None
                assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
                cid = conn.execute("SELECT conversation_id FROM messages WHERE role = 'user' AND content = ?",
                                   (question,)).fetchone()[0]
                answers = conn.execute("SELECT content, status FROM messages WHERE conversation_id = ? AND role = 'assistant'",
                                       (cid,)).fetchall()
                assert len(answers) == 1
                content, status = answers[0]
                assert status == "interrupted"
                # Streamed text is written in batches (recorder.CHUNK_FLUSH_SECONDS apart): what was saved is the
                # answer as it arrived, up to at most the last batch before the kill; never anything else.
                assert FULL.startswith(content) and (seen.startswith(content) or content.startswith(seen)), (seen, content)
                assert content, "the first text of an answer is written before it is shown"
                assert conn.execute("SELECT count(*) FROM message_chunks").fetchone()[0] == 0
                assert conn.execute("SELECT count(*) FROM conversations").fetchone()[0] == run + 1
            finally:
                conn.close()
