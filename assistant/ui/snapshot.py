"""What the first frame shows before the engine is open: recent conversations, read straight from the database."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

# Same order and count as History.list_conversations, so the engine's later listing repaints nothing.
_RECENT = ("SELECT c.id, c.title, c.updated_at, (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id) "
           "FROM conversations c ORDER BY c.updated_at DESC LIMIT ?")


@dataclass(frozen=True)
class RecentConversation:
    """The fields the sidebar shows; the engine's Conversation has these too."""

    id: str
    title: str
    updated_at: float
    message_count: int


def recent_conversations(database: Path, limit: int = 200) -> list[RecentConversation] | None:
    """A read-only query that takes milliseconds; None when the file cannot be read (the engine reports why)."""
    import sqlite3

    if not database.exists():
        return []  # a fresh install: the engine creates the file, still empty
    try:
        # mode=ro: never create, migrate or lock anything here; opening and repairing is the engine's job.
        conn = sqlite3.connect(f"file:{quote(str(database))}?mode=ro", uri=True, timeout=0.05)
        try:
            rows = conn.execute(_RECENT, (limit,)).fetchall()
        finally:
            conn.close()
    except sqlite3.Error:  # damaged, locked, or an older schema: the sidebar fills once the engine is open
        return None
    return [RecentConversation(str(r[0]), str(r[1]), float(r[2]), int(r[3])) for r in rows]
