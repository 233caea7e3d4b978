"""Shared pieces of the reliability tests: a loopback Ollama, a CLI runner and the checks every case makes."""

from __future__ import annotations

import os
import pty
import sqlite3
import subprocess
from pathlib import Path

from tests.conftest import PYTHON, cli_env
from tests.fakes.ollama import chat_stream, tags
from tests.fakes.server import FakeServer, Reply

MODEL = "llama3.2:latest"
NDJSON = "application/x-ndjson"


def ollama(chat: Reply | list[Reply], models: tuple[str, ...] = (MODEL,)) -> FakeServer:
    """A fake Ollama whose /api/chat plays `chat` (one reply per call when a list; the last repeats)."""
    return FakeServer({("GET", "/api/tags"): tags(list(models)), ("POST", "/api/chat"): chat})


def ollama_answer(pieces: list[str], delay: float = 0.0) -> Reply:
    return Reply(200, chat_stream(MODEL, pieces), content_type=NDJSON, delay=delay)


def run_cli(home: Path, args: list[str], *, stdin: bytes | None = None, timeout: float = 60,
            **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m assistant ARGS` isolated under `home`; bytes in, text out (undecodable bytes replaced)."""
    proc = subprocess.run([PYTHON, "-m", "assistant", *args], input=stdin if stdin is not None else b"",
                          capture_output=True, timeout=timeout, env=cli_env(home, **env))
    return subprocess.CompletedProcess(proc.args, proc.returncode, proc.stdout.decode("utf-8", "replace"),
                                       proc.stderr.decode("utf-8", "replace"))


def on_a_terminal(home: Path, args: list[str], *, stderr_too: bool = True,
                  **env: str) -> tuple[bytes, bytes, int]:
    """Run `assistant ARGS` with stdout (and stderr, unless `stderr_too` is False) on a pseudo-terminal, as a
    user's shell would: (every byte the terminal received, stderr when piped, exit code)."""
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen([PYTHON, "-m", "assistant", *args], stdin=subprocess.DEVNULL, stdout=slave,
                                stderr=slave if stderr_too else subprocess.PIPE, env=cli_env(home, **env))
        os.close(slave)
        slave = -1
        received = b""
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed its side
                break
            if not data:
                break
            received += data
        err = proc.stderr.read() if proc.stderr is not None else b""
        proc.wait(60)
        if proc.stderr is not None:
            proc.stderr.close()
        return received, err, proc.returncode
    finally:
        os.close(master)
        if slave >= 0:
            os.close(slave)


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *needles: str) -> str:
    """A failure the user can act on: non-zero exit, one `assistant:` line on stderr (besides retry notices)."""
    assert proc.returncode != 0, proc.stdout
    assert "Traceback" not in proc.stderr and "unexpected" not in proc.stderr, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.strip() and "Retrying in" not in line]
    assert len(errors) == 1 and errors[0].startswith("assistant: "), proc.stderr
    for needle in needles:
        assert needle.lower() in errors[0].lower(), errors[0]
    return errors[0]


def database(home: Path) -> Path:
    return home / "data" / "assistant.db"


def rows(db: Path, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()
