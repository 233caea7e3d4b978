"""Reliability 6b: every command that prints outside text (titles, answers, model names, server errors, keys) shows
escape sequences on a terminal instead of obeying them; a pipe or a file export keeps the bytes.

Each command runs with stdout and stderr on a real pseudo-terminal, as a user's shell would run it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.fakes.server import FakeServer, Reply
from tests.reliability.support import MODEL, database, on_a_terminal, run_cli

TITLE = "\x1b]0;owned\x07"
CLIPBOARD = "\x1b]52;c;cm0gLXJmIH4=\x1b\\"  # OSC 52 writes "rm -rf ~" to the clipboard
HOSTILE = f"pwned {TITLE}{CLIPBOARD}\x1b[2J\x1b[31m\x00\u009b31m\r\x08 end"
MODEL_NAME = "llama\x1b]0;model\x07:latest"
# Our own styling (the dim route line after an answer) is allowed; nothing else that a terminal would act on.
OURS = re.compile(rb"\x1b\[2m|\x1b\[0m")
LIVE = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\xc2[\x80-\x9f]")
CID = "c0ffee000001"


def terminal(home: Path, args: list[str], **env: str) -> bytes:
    return on_a_terminal(home, args, **env)[0]


def assert_harmless(shown: bytes) -> str:
    assert b"Traceback" not in shown, shown
    live = LIVE.findall(OURS.sub(b"", shown).replace(b"\r\n", b"\n"))
    assert not live, (live, shown)
    return shown.decode("utf-8")


@pytest.fixture
def hostile_history(isolated_env: Path) -> Path:
    """A conversation whose title, system prompt, question, answer and model name all carry escape sequences,
    with the call and cache rows the figures commands read."""
    from assistant.core.records import CachedAnswer, CallRecord
    from assistant.storage.cache import ResponseCache
    from assistant.storage.calls import CallLog
    from assistant.storage.db import Database, open_database

    db = Database(open_database(database(isolated_env)).conn, database(isolated_env))
    conn = db.conn
    conn.execute("INSERT INTO conversations (id, title, created_at, updated_at, system) VALUES (?, ?, 1e9, 1e9, ?)",
                 (CID, HOSTILE, HOSTILE))
    asked = conn.execute("INSERT INTO messages (conversation_id, role, content, status, created_at) VALUES (?, 'user', "
                         "?, 'complete', 1e9)", (CID, HOSTILE))
    cur = conn.execute("INSERT INTO messages (conversation_id, role, content, status, created_at, provider, model, "
                       "parent_id) VALUES (?, 'assistant', ?, 'complete', 1e9, 'ollama', ?, ?)",
                       (CID, HOSTILE, MODEL_NAME, asked.lastrowid))
    CallLog(conn).record(CallRecord("r1", CID, int(cur.lastrowid or 0), "ollama", MODEL_NAME, "ok", 10, 20, 0.0,
                                    ttft_ms=40.0, total_ms=400.0, route_reason=HOSTILE))
    ResponseCache(conn).put(CachedAnswer("b3:00", "ollama", MODEL_NAME, HOSTILE, 10, 20, 0.0, False, 40.0, 400.0,
                                         1e9))
    db.close()
    return isolated_env


STORED = {
    "history-list": ["history", "list"],
    "history-list-json": ["history", "list", "--json"],
    "history-show-json": ["history", "show", "--json", CID],
    "history-show": ["history", "show", CID],
    "history-search": ["history", "search", "pwned"],
    "history-export-md": ["history", "export", CID],
    "history-export-json": ["history", "export", CID, "--format", "json"],
    "savings-rows": ["savings", "--rows", "--since", "all"],
    "savings-json": ["savings", "--rows", "--json"],
    "latency": ["latency"],
    "latency-json": ["latency", "--json"],
    "cache-stats": ["cache", "stats"],
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("args", list(STORED.values()), ids=list(STORED))
def test_stored_outside_text_is_shown_not_obeyed(hostile_history: Path, args: list[str]) -> None:
    text = assert_harmless(terminal(hostile_history, args))
    if args[0] != "cache":  # the figures alone: nothing from outside to show
        # Made visible, so the user sees something was there (JSON escapes it its own way).
        assert ("\\u001b]0;" if "--json" in args or "json" in args else "^[]0;") in text, text


@pytest.mark.timeout(60)
def test_server_error_text_and_model_names_from_a_server(isolated_env: Path) -> None:
    tags = Reply.json({"models": [{"name": MODEL_NAME, "model": MODEL_NAME, "size": 1, "details": {}}]})
    error = Reply.json({"error": f"runner crashed {HOSTILE}"}, 500)
    with FakeServer({("GET", "/api/tags"): tags, ("POST", "/api/chat"): error}) as server:
        listed = assert_harmless(terminal(isolated_env, ["models"], OLLAMA_HOST=server.url))
        failed = assert_harmless(terminal(isolated_env, ["ask", "-m", f"ollama:{MODEL}", "hi"],
                                               OLLAMA_HOST=server.url))
    assert "llama^[]0;model^G:latest" in listed
    assert "runner crashed pwned" in failed and "assistant: " in failed


@pytest.mark.timeout(60)
def test_a_key_with_control_characters_is_listed_harmlessly(isolated_env: Path) -> None:
    shown = assert_harmless(terminal(isolated_env, ["keys", "list"], OPENAI_API_KEY="sk-test-\x1b]0;k\x07"))
    assert "openai" in shown


@pytest.mark.timeout(60)
def test_a_file_export_and_a_pipe_keep_the_bytes(hostile_history: Path, tmp_path: Path) -> None:
    target = tmp_path / "out.md"
    wrote = run_cli(hostile_history, ["history", "export", CID, "-o", str(target)])
    assert wrote.returncode == 0, wrote.stderr
    assert HOSTILE.encode() in target.read_bytes()
    piped = run_cli(hostile_history, ["history", "show", "--json", CID])
    assert json.loads(piped.stdout)["messages"][1]["content"] == HOSTILE
    listed = run_cli(hostile_history, ["history", "list"])
    assert HOSTILE.replace("\r", "") in listed.stdout.replace("\r", "")  # a pipe gets what was stored
