"""Copying what can be read from a damaged database: every row and link kept, ids remapped when taken, twice is once."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from assistant.core.records import CachedAnswer, CallRecord
from assistant.storage.cache import ResponseCache
from assistant.storage.calls import CallLog
from assistant.storage.db import Database, open_database
from assistant.storage.history import History
from assistant.storage.salvage import salvage


def _source(path: Path) -> tuple[str, list[str]]:
    """A conversation with a regenerated answer (a branch), its cost rows, a tool call and a cached answer."""
    store = Database(open_database(path).conn, path)
    history = History(store.conn)
    cid = history.create_conversation("Capital of France?")
    question = history.add_message(cid, "user", "Capital of France?")
    first = history.add_message(cid, "assistant", "Lyon.", parent_id=question)
    second = history.add_message(cid, "assistant", "Paris.", parent_id=question)  # regenerated: a sibling
    history.add_message(cid, "user", "And Spain?", parent_id=second)
    CallLog(store.conn).record(CallRecord("r1", cid, second, "ollama", "llama3.2:latest", "ok", 5, 2, 0.0,
                                          total_ms=10.0))
    store.conn.execute(
        "INSERT INTO tool_calls (request_id, conversation_id, message_id, round, seq, server, tool, arguments, status, "
        "approved_by, result, truncated, elapsed_ms, created_at) VALUES ('r1', ?, ?, 0, 0, 'fs', 'read', '{}', 'ok', "
        "'user', 'contents', 0, 1.0, 1.0)", (cid, first))
    ResponseCache(store.conn).put(CachedAnswer("b3:aa", "ollama", "llama3.2:latest", "Paris.", 5, 2, 0.0, False,
                                               1.0, 2.0, 1.0))
    shown = [m.content for m in history.messages(cid)]
    store.close()
    return cid, shown


def _target(path: Path, busy: bool) -> sqlite3.Connection:
    conn = open_database(path).conn
    if busy:  # the fresh database already has a conversation of its own: the copied ids are taken
        history = History(conn)
        other = history.create_conversation("newer")
        for i in range(6):
            history.add_message(other, "user" if i % 2 == 0 else "assistant", f"newer {i}")
    return conn


def test_a_sound_copy_keeps_every_row_and_the_branch_on_screen(tmp_path: Path) -> None:
    cid, shown = _source(tmp_path / "old.db")
    for busy in (False, True):
        conn = _target(tmp_path / f"new-{busy}.db", busy)
        report = salvage(tmp_path / "old.db", conn)
        assert (report.conversations, report.messages, report.calls, report.cached, report.unreadable) == (1, 4, 1, 1, 0)
        history = History(conn)
        assert [m.content for m in history.messages(cid)] == shown == ["Capital of France?", "Paris.", "And Spain?"]
        paris = {m.content: m for m in history.messages(cid)}["Paris."]
        assert len(paris.siblings) == 2 and paris.alternative == 2  # the first answer is still reachable
        # The tool call and the cost row point at the copied messages, whatever their new ids.
        tool_msg = conn.execute("SELECT m.content FROM tool_calls t JOIN messages m ON m.id = t.message_id").fetchall()
        assert tool_msg == [("Lyon.",)]
        assert conn.execute("SELECT m.content FROM calls c JOIN messages m ON m.id = c.message_id").fetchall() == [
            ("Paris.",)]
        assert History(conn).search("Spain")[0].conversation_id == cid  # the search index covers the copies
        again = salvage(tmp_path / "old.db", conn)
        assert (again.conversations, again.messages, again.calls, again.cached) == (0, 0, 0, 0)
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        conn.close()


def test_a_page_that_cannot_be_read_costs_only_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    store = Database(open_database(path).conn, path)
    history = History(store.conn)
    for i in range(400):
        cid = history.create_conversation(f"question {i}")
        history.add_message(cid, "user", f"question {i} " + "words " * 40)
    store.close()
    data = bytearray(path.read_bytes())
    page = data.index(b"question 200 words") // 4096 * 4096  # a page of the messages table
    data[page:page + 4096] = b"\xff" * 4096  # gone whole
    path.write_bytes(bytes(data))
    conn = open_database(tmp_path / "new.db").conn
    report = salvage(path, conn)
    copied = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
    assert report.messages == copied and 300 < copied < 400 and report.unreadable >= 1


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database" * 100)
    report = salvage(junk, open_database(tmp_path / "new.db").conn)
    assert not report.readable and report.summary() == "nothing could be read from it"
