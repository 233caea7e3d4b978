"""The list of recent conversations: one query for History and for the chat app's first frame (sqlite3 only)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import quote

from assistant.core.conversation import Conversation

CONVERSATION_COLUMNS = "c.id, c.title, c.created_at, c.updated_at, c.model, c.system, c.temperature"


def conversation(row: tuple[Any, ...]) -> Conversation:
    """A row of CONVERSATION_COLUMNS, the message count, then the private flag."""
    cid, title, created, updated, model, system, temperature, count, private = row
    return Conversation(cid, title, created, updated, model, system, temperature, count, bool(private))


def list_conversations(conn: sqlite3.Connection, limit: int = 50, offset: int = 0) -> list[Conversation]:
    """Newest first, with each one's message count."""
    rows = conn.execute(
        f"SELECT {CONVERSATION_COLUMNS}, (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id), c.private "
        "FROM conversations c ORDER BY c.updated_at DESC LIMIT ? OFFSET ?",
        (limit, offset),
    ).fetchall()
    return [conversation(r) for r in rows]


def peek_recent_conversations(database: Path, limit: int = 200) -> list[Conversation] | None:
    """A read-only query that takes milliseconds; None when the file cannot be read (the engine reports why)."""
    if not database.exists():
        return []  # a fresh install: the engine creates the file, still empty
    try:
        # mode=ro: never create, migrate or lock anything here; opening and repairing is the engine's job.
        conn = sqlite3.connect(f"file:{quote(str(database))}?mode=ro", uri=True, timeout=0.05)
        try:
            # The same query the engine's listing runs later, so that listing repaints nothing.
            return list_conversations(conn, limit)
        finally:
            conn.close()
    except Exception:  # damaged, locked, or an older schema: the sidebar fills once the engine is open
        return None
