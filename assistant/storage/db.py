"""Open the SQLite database: WAL, busy timeout, migrations, corrupt-file recovery, crash recovery."""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import DatabaseLocked, StorageError
from assistant.storage.migrations import migrate

BUSY_TIMEOUT_MS = 10_000
MMAP_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class OpenResult:
    conn: sqlite3.Connection
    # Where a damaged database was moved, so the user can be told; None when all was well.
    moved_aside: Path | None = None


def _connect(path: Path) -> sqlite3.Connection:
    # Autocommit mode: we open transactions explicitly where several statements must go together.
    conn = sqlite3.connect(str(path), isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal" and str(path) != ":memory:":
        raise sqlite3.DatabaseError(f"journal mode is {mode}")
    conn.execute("PRAGMA synchronous = NORMAL")
    # Reads come straight from the mapped file instead of a read() call per page: cache hits take half the time.
    conn.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def _move_aside(path: Path) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while target.exists():
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
        n += 1
    path.replace(target)
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.replace(target.with_name(target.name + suffix))
    return target


def _locked(exc: sqlite3.Error) -> bool:
    return "locked" in str(exc).lower() or "busy" in str(exc).lower()


def open_database(path: Path) -> OpenResult:
    """Open (creating or migrating) the database; a damaged file is kept aside and a fresh one made."""
    # Some lock conflicts are reported at once, without waiting for the busy timeout (two processes
    # creating or recovering the same fresh WAL file): try again for as long as the busy timeout allows.
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    delay = 0.01
    while True:
        try:
            return _open(path)
        except DatabaseLocked:
            if time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.25)


def _open(path: Path) -> OpenResult:
    path.parent.mkdir(parents=True, exist_ok=True)
    moved: Path | None = None
    for attempt in range(2):
        try:
            conn = _connect(path)
            try:
                migrate(conn)
                recover_interrupted(conn)
            except BaseException:
                conn.close()
                raise
            return OpenResult(conn, moved)
        except sqlite3.OperationalError as exc:
            if _locked(exc):
                raise DatabaseLocked(f"The database {path} is locked by another program; close it and try again.") from exc
            if "unable to open" in str(exc).lower():
                raise StorageError(f"Cannot open the database {path}; check the folder exists and is writable.") from exc
            if attempt or not path.exists():
                raise StorageError(f"The database {path} cannot be used ({exc}).") from exc
            moved = _move_aside(path)
        except sqlite3.DatabaseError as exc:
            if attempt or not path.exists():
                raise StorageError(f"The database {path} cannot be used ({exc}).") from exc
            moved = _move_aside(path)
    raise AssertionError("unreachable")


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover_interrupted(conn: sqlite3.Connection) -> int:
    """Answers left streaming by a process that died keep their received text, marked interrupted."""
    rows = conn.execute("SELECT id, pid FROM messages WHERE status = 'streaming'").fetchall()
    dead = [mid for mid, pid in rows if not _alive(pid)]
    for mid in dead:
        finish_message(conn, mid, "interrupted")
    return len(dead)


def finish_message(conn: sqlite3.Connection, message_id: int, status: str, text: str | None = None) -> str:
    """Fold streamed chunks into the message row and set its final status, atomically."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        if text is None:
            row = conn.execute(
                "SELECT coalesce(group_concat(text, ''), '') FROM "
                "(SELECT text FROM message_chunks WHERE message_id = ? ORDER BY seq)",
                (message_id,),
            ).fetchone()
            text = row[0]
        conn.execute("UPDATE messages SET content = ?, status = ? WHERE id = ?", (text, status, message_id))
        conn.execute("DELETE FROM message_chunks WHERE message_id = ?", (message_id,))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return text
