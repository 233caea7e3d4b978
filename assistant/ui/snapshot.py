"""What the first frame shows before the engine is open: recent conversations, read straight from the database."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from assistant.storage.history import Conversation, History


def recent_conversations(database: Path, limit: int = 200) -> list[Conversation] | None:
    """A read-only query that takes milliseconds; None when the file cannot be read (the engine reports why)."""
    import sqlite3

    if not database.exists():
        return []  # a fresh install: the engine creates the file, still empty
    try:
        # mode=ro: never create, migrate or lock anything here; opening and repairing is the engine's job.
        conn = sqlite3.connect(f"file:{quote(str(database))}?mode=ro", uri=True, timeout=0.05)
        try:
            # The same query the engine's listing runs later, so that listing repaints nothing.
            return History(conn).list_conversations(limit=limit)
        finally:
            conn.close()
    except sqlite3.Error:  # damaged, locked, or an older schema: the sidebar fills once the engine is open
        return None
