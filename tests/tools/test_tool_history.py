"""History keeps each tool call (arguments, result, who approved it): the migration on blank and older databases,
exports in Markdown and JSON, and deleting a conversation takes its calls along."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from assistant.core.tools import ToolResult
from assistant.storage.db import open_database
from assistant.storage.history import History
from assistant.storage.migrations import MIGRATIONS, migrate
from assistant.storage.tool_log import ToolLog


def _answer_with_calls(history: History) -> tuple[str, int]:
    cid = history.create_conversation("Add and write", "openai:gpt-4o-mini")
    history.add_message(cid, "user", "Add and write")
    mid = history.start_answer(cid, "openai", "gpt-4o-mini")
    log = ToolLog(history.conn)
    log.record("r1", cid, mid, 1, 0, ToolResult("c1", "t", "add", "ok", "5.0", 12.5, "trusted", arguments={"a": 2, "b": 3}))
    log.record("r1", cid, mid, 1, 1, ToolResult("c2", "t", "write_note", "refused", "The user did not allow this.",
                                               0.0, "refused", arguments={"path": "/tmp/x", "text": "```"}))
    history.append_chunk(mid, 0, "The sum is 5.")
    history.finish_answer(mid, "complete")
    return cid, mid


def test_blank_database_has_the_table_and_its_index(tmp_path: Path) -> None:
    conn = open_database(tmp_path / "a.db").conn
    assert "m024_tool_calls" in [r[0] for r in conn.execute("SELECT name FROM _migrations")]
    plan = " ".join(str(r[-1]) for r in conn.execute(
        "EXPLAIN QUERY PLAN SELECT * FROM tool_calls WHERE message_id = 1 ORDER BY round, seq"))
    assert "idx_tool_calls_message" in plan


def test_an_older_database_gains_the_table_and_keeps_its_conversations(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    names = [name for name, _ in MIGRATIONS]
    migrate(conn, upto=names[names.index("m024_tool_calls") - 1])  # everything before the tool calls
    conn.execute("INSERT INTO conversations (id, title, created_at, updated_at) VALUES ('c1', 'old', 1, 1)")
    conn.execute("INSERT INTO messages (conversation_id, role, content, status, created_at) "
                 "VALUES ('c1', 'assistant', 'old answer', 'complete', 1)")
    assert not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'tool_calls'").fetchone()
    conn.close()
    history = History(open_database(path).conn)
    assert history.tool_calls("c1") == [] and history.messages("c1")[0].content == "old answer"
    assert "tool_calls" not in history.export("c1", "json")  # answers without calls look as before


def test_calls_are_kept_in_order_with_who_approved_them(tmp_path: Path) -> None:
    history = History(open_database(tmp_path / "h.db").conn)
    cid, mid = _answer_with_calls(history)
    calls = history.tool_calls(cid[:6])
    assert [(c.message_id, c.round, c.seq, c.tool, c.status, c.approved_by) for c in calls] == \
        [(mid, 1, 0, "add", "ok", "trusted"), (mid, 1, 1, "write_note", "refused", "refused")]
    assert json.loads(calls[0].arguments) == {"a": 2, "b": 3} and calls[0].elapsed_ms == 12.5


def test_exports_include_the_calls(tmp_path: Path) -> None:
    history = History(open_database(tmp_path / "h.db").conn)
    cid, _ = _answer_with_calls(history)
    data = json.loads(history.export(cid, "json"))
    answer = data["messages"][1]
    assert [(c["tool"], c["arguments"], c["result"], c["approved_by"]) for c in answer["tool_calls"]] == [
        ("add", {"a": 2, "b": 3}, "5.0", "trusted"),
        ("write_note", {"path": "/tmp/x", "text": "```"}, "The user did not allow this.", "refused")]
    assert "tool_calls" not in data["messages"][0]
    md = history.export(cid, "md")
    assert "**Tool call** `t.add` (ok, trusted, 12 ms)" in md and "**Tool call** `t.write_note` (refused, 0 ms)" in md
    assert '````json\n{"path": "/tmp/x", "text": "```"}\n````' in md  # a fence inside the arguments stays inside
    assert md.index("`t.add`") < md.index("The sum is 5.")


def test_deleting_the_conversation_removes_its_calls(tmp_path: Path) -> None:
    history = History(open_database(tmp_path / "h.db").conn)
    cid, _ = _answer_with_calls(history)
    other, _ = _answer_with_calls(history)
    history.delete_conversation(other)
    assert len(history.tool_calls(cid)) == 2
    assert history.conn.execute("SELECT count(*) FROM tool_calls WHERE conversation_id = ?", (other,)).fetchone() == (0,)
