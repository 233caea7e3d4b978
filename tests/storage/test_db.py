"""The database: migrations on blank and older files, indexes used, crash and corruption recovery."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.core.records import CallRecord
from assistant.storage.calls import CallLog
from assistant.storage.db import open_database
from assistant.storage.history import History
from assistant.storage.migrations import MIGRATIONS, migrate


def test_blank_database_gets_every_migration(tmp_path: Path) -> None:
    conn = open_database(tmp_path / "a.db").conn
    names = [r[0] for r in conn.execute("SELECT name FROM _migrations ORDER BY rowid")]
    assert names == [name for name, _ in MIGRATIONS]
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000


def test_older_database_is_upgraded_keeping_data(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, upto=MIGRATIONS[0][0])  # the first released schema
    conn.execute("INSERT INTO conversations (id, title, created_at, updated_at) VALUES ('c1', 'old', 1, 1)")
    conn.execute("INSERT INTO messages (conversation_id, role, content, status, created_at) VALUES ('c1', 'user', 'old words', 'complete', 1)")
    conn.close()
    upgraded = open_database(path).conn
    assert len(upgraded.execute("SELECT * FROM _migrations").fetchall()) == len(MIGRATIONS)
    # the search index covers messages written before it existed
    hits = History(upgraded).search("old words")
    assert [h.conversation_id for h in hits] == ["c1"]
    # a message stored before digests were kept gets its digest when read, so its conversation's keys still work
    from assistant.core.cache_key import content_digest

    assert History(upgraded).messages("c1")[0].digest == content_digest("old words")


@pytest.mark.parametrize(("sql", "index"), [
    ("SELECT * FROM messages WHERE conversation_id = 'x' ORDER BY id", "idx_messages_conversation"),
    ("SELECT * FROM conversations ORDER BY updated_at DESC LIMIT 50", "idx_conversations_updated"),
    ("SELECT sum(cost_usd) FROM calls WHERE created_at >= 0", "idx_calls_created"),
    ("SELECT ttft_ms FROM calls WHERE provider = 'a' AND model = 'b' AND created_at > 0", "idx_calls_model"),
    ("SELECT id FROM messages WHERE status = 'streaming'", "idx_messages_status"),
    ("SELECT * FROM response_cache WHERE key = 'b3:00'", "sqlite_autoindex_response_cache_1"),
    ("SELECT key FROM response_cache ORDER BY last_used_at LIMIT 10", "idx_cache_lru"),
    ("SELECT id FROM calls WHERE conversation_id = 'x' AND outcome = 'ok' ORDER BY id", "idx_calls_conversation"),
    ("SELECT DISTINCT outcome FROM calls WHERE conversation_id = 'x'", "idx_calls_conversation"),
])
def test_queries_use_indexes(tmp_path: Path, sql: str, index: str) -> None:
    conn = open_database(tmp_path / "a.db").conn
    plan = " ".join(str(row[-1]) for row in conn.execute("EXPLAIN QUERY PLAN " + sql))
    assert index in plan or "PRIMARY KEY" in plan, plan


def test_answer_left_streaming_by_dead_process_is_recovered(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    history = History(open_database(path).conn)
    cid = history.create_conversation("q")
    history.add_message(cid, "user", "q")
    mid = history.start_answer(cid, "embedded", "smollm2")
    history.append_chunk(mid, 0, "Half ")
    history.append_chunk(mid, 1, "done")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout
    history.conn.execute("UPDATE messages SET pid = ? WHERE id = ?", (int(dead), mid))
    reopened = History(open_database(path).conn)
    last = reopened.messages(cid)[-1]
    assert (last.content, last.status) == ("Half done", "interrupted")
    assert reopened.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_live_streaming_answer_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    history = History(open_database(path).conn)
    cid = history.create_conversation("q")
    mid = history.start_answer(cid, "embedded", "smollm2")  # this process is alive
    History(open_database(path).conn)
    assert history.conn.execute("SELECT status FROM messages WHERE id = ?", (mid,)).fetchone()[0] == "streaming"


@pytest.mark.parametrize("damage", ["garbage", "truncate"])
def test_damaged_file_is_kept_aside(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "a.db"
    history = History(open_database(path).conn)
    history.create_conversation("precious")
    history.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    history.conn.close()
    data = path.read_bytes()
    path.write_bytes(b"not a database at all " * 200 if damage == "garbage" else data[:100])
    result = open_database(path)
    assert result.moved_aside is not None and result.moved_aside.exists()
    assert result.moved_aside.name.startswith("a.db.corrupt-")
    assert History(result.conn).list_conversations() == []


def test_calls_record_round_trip(tmp_path: Path) -> None:
    calls = CallLog(open_database(tmp_path / "a.db").conn)
    calls.record(CallRecord("r1", None, None, "openai", "gpt-4o-mini", "ok", 10, 5, 0.001, cached=False, total_ms=3.0))
    assert calls.month_spend() == pytest.approx(0.001)
