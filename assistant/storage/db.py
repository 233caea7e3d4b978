"""Open the SQLite database (WAL, busy timeout, migrations, recovery) and run every statement on one thread."""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

from assistant.core.cache_key import content_digest
from assistant.core.errors import (
    DatabaseDamaged,
    DatabaseLocked,
    DatabaseReadOnly,
    DiskFull,
    StorageError,
)
from assistant.core.records import SalvageReport
from assistant.storage.boundary import full_message, is_damage, translate, undecodable
from assistant.storage.integrity import check_due, kept_aside, lenient, move_aside, problems, read_seal, write_seal
from assistant.storage.migrations import migrate, pending
from assistant.storage.tx import transaction

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor

BUSY_TIMEOUT_MS = 10_000
LOW_SPACE_BYTES = 256 * 1024  # less free space than this, and a failure at open means the disk is full
MMAP_BYTES = 256 * 1024 * 1024
T = TypeVar("T")

def connect(path: Path) -> sqlite3.Connection:
    # Autocommit mode: we open transactions explicitly where several statements must go together.
    conn = sqlite3.connect(str(path), isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal" and str(path) != ":memory:":
        raise sqlite3.OperationalError(f"journal mode is {mode}")
    conn.execute("PRAGMA synchronous = NORMAL")
    # Reads come straight from the mapped file instead of a read() call per page: cache hits take half the time.
    conn.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


@dataclass(frozen=True)
class OpenResult:
    conn: sqlite3.Connection
    # Where a damaged database was moved and what could be copied from it, so the user can be told.
    moved_aside: Path | None = None
    salvaged: SalvageReport | None = None
    # Damaged copies kept beside the database from earlier starts, until the user recovers from or deletes them.
    kept: tuple[Path, ...] = ()
    # Why the file could only be opened for reading (a full disk): every write then fails with this error.
    read_only: StorageError | None = None


def open_database(path: Path) -> OpenResult:
    """Open (creating or migrating) the database; only a damaged file is kept aside and a fresh one made."""
    # Some lock conflicts are reported at once, without waiting for the busy timeout (two processes
    # creating or recovering the same fresh WAL file): try again for as long as the busy timeout allows.
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    delay = 0.01
    while True:
        try:
            return _open(path)
        except DatabaseDamaged:
            raise
        except (DiskFull, DatabaseReadOnly) as exc:
            return _open_for_reading(path, exc, exc)
        except StorageError as exc:
            why = _cannot_write(path)  # SQLite could not even create its WAL index: an I/O error, or "cannot open"
            if why is not None:
                return _open_for_reading(path, why, exc)
            if isinstance(exc, DatabaseLocked):
                if time.monotonic() + delay > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.25)
                continue
            raise


def _cannot_write(path: Path) -> StorageError | None:
    """Why nothing can be written beside the database (a full disk, a read-only folder), if that is the case."""
    try:
        if shutil.disk_usage(path.parent).free < LOW_SPACE_BYTES:
            return DiskFull(full_message(path))
    except OSError:
        return None
    if not os.access(path.parent, os.W_OK):
        return DatabaseReadOnly(f"The folder {path.parent} is read-only, so history can be read but nothing new "
                                "is saved; make it writable (or set ASSISTANT_HOME to a writable folder).")
    return None




def _open_for_reading(path: Path, why: StorageError, original: StorageError) -> OpenResult:
    """History, search and cached answers stay readable on a full disk or a read-only folder; nothing is migrated
    or repaired, and every write fails with `why`."""
    if not path.exists():
        raise original
    # Without room for the WAL index, only an immutable open can read; that is safe when no WAL holds pages.
    wal = path.with_name(path.name + "-wal")
    immutable = "&immutable=1" if not wal.exists() or wal.stat().st_size == 0 else ""
    try:
        conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro{immutable}", uri=True, isolation_level=None,
                               timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
        if pending(conn, read_only=True):
            conn.close()
            raise why  # an older schema cannot be upgraded without writing
        conn.execute("PRAGMA query_only = 1")
    except sqlite3.Error as exc:
        raise why from exc
    return OpenResult(conn, kept=tuple(kept_aside(path)), read_only=why)


def _checked(conn: sqlite3.Connection, path: Path) -> None:
    """Before anything is written: the structure is checked when the file changed behind our back, a process met
    damage in it, or a day has passed (a few milliseconds for a few megabytes; nothing when the seal matches)."""
    pragma = check_due(path)
    if pragma is None:
        if read_seal(path) is None:  # a new file
            write_seal(path, time.time())
        return
    found = problems(conn, pragma)
    if found:
        raise DatabaseDamaged(f"{pragma}: {found[0]}")
    write_seal(path, time.time())


def _in_the_way(path: Path) -> None:
    """A file where a folder must be (the home, or its data folder), or a folder where the database file must be."""
    if path.is_dir():
        raise StorageError(f"{path} is a folder, but the database must be a file there; move the folder away, "
                           "or set ASSISTANT_HOME to another folder.")
    for folder in path.parents:
        if folder.exists():
            if not folder.is_dir():
                raise StorageError(f"{folder} is a file, but the database needs a folder there; move the file away, "
                                   "or set ASSISTANT_HOME to another folder.")
            return


def _open(path: Path) -> OpenResult:
    _in_the_way(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(f"Cannot create the folder {path.parent} ({exc.strerror or exc.__class__.__name__}); "
                           "check that it is a writable folder, or set ASSISTANT_HOME to one.") from exc
    moved: Path | None = None
    for attempt in range(2):
        try:
            conn = connect(path)
            try:
                _checked(conn, path)
                migrate(conn)
                recover_interrupted(conn)
            except BaseException:
                conn.close()
                raise
            salvaged = _salvage(moved, conn, path) if moved is not None else None
            return OpenResult(conn, moved, salvaged, tuple(p for p in kept_aside(path) if p != moved))
        except (sqlite3.Error, UnicodeDecodeError, DatabaseDamaged) as exc:
            # Only real damage is set aside; a full disk, a lock or a permission never moves the user's history.
            damaged = isinstance(exc, (DatabaseDamaged, UnicodeDecodeError)) or is_damage(exc)
            if not damaged or attempt or not path.exists():
                if isinstance(exc, DatabaseDamaged):
                    raise
                raise translate(exc, path) from exc
            try:
                moved = move_aside(path)
            except OSError as err:
                raise DatabaseDamaged(f"The database {path} is damaged and could not be moved aside "
                                      f"({err.strerror or err.__class__.__name__}); move it away yourself "
                                      "and run again.") from exc
    raise AssertionError("unreachable")


def _salvage(kept: Path, conn: sqlite3.Connection, path: Path) -> SalvageReport:
    from assistant.storage.salvage import salvage  # only ever needed after damage

    try:
        return salvage(kept, conn)
    except sqlite3.Error as exc:
        raise translate(exc, path) from exc


def close_database(conn: sqlite3.Connection, path: Path, *, sealed: bool = True) -> None:
    """Close the connection and seal the file as we leave it: the next start checks it only if something else
    changed it (`sealed` False after damage, or when the file could only be read)."""
    conn.close()
    if sealed:
        write_seal(path)


def alive(pid: int | None) -> bool:
    """Whether a process that wrote a row is still running (it may still finish its answer)."""
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
    dead = [mid for mid, pid in rows if not alive(pid)]
    for mid in dead:
        finish_message(conn, mid, "interrupted")
    return len(dead)


def finish_message(conn: sqlite3.Connection, message_id: int, status: str, text: str | None = None) -> str:
    """Fold streamed chunks into the message row and set its final status, atomically."""
    with transaction(conn):
        if text is None:
            row = conn.execute(
                "SELECT coalesce(group_concat(text, ''), '') FROM "
                "(SELECT text FROM message_chunks WHERE message_id = ? ORDER BY seq)",
                (message_id,),
            ).fetchone()
            text = str(row[0])
        conn.execute("UPDATE messages SET content = ?, status = ?, digest = ? WHERE id = ?",
                     (text, status, content_digest(text), message_id))
        conn.execute("DELETE FROM message_chunks WHERE message_id = ?", (message_id,))
    return text


class Database:
    """One connection whose statements all run on one thread, so the event loop never waits on SQLite and
    transactions of different callers never interleave."""

    def __init__(self, conn: sqlite3.Connection, path: Path | None = None, *,
                 read_only: StorageError | None = None) -> None:
        self.conn = conn
        self.path = path
        # Opened for reading only (a full disk): a write fails with this error instead of "read-only".
        self.read_only = read_only
        self._executor: ThreadPoolExecutor | None = None
        self._thread: int | None = None
        self._lock = threading.Lock()
        # Set by the first sign of damage: nothing more is written into the file (nor read from it) by this process.
        self.damaged: DatabaseDamaged | None = None

    def _pool(self) -> ThreadPoolExecutor:
        from concurrent.futures import ThreadPoolExecutor  # a cached `ask` reads without any thread

        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(1, thread_name_prefix="assistant-db",
                                                    initializer=self._mark_thread)
            return self._executor

    def _mark_thread(self) -> None:
        self._thread = threading.get_ident()

    def _guard(self, fn: Callable[..., T], *args: Any) -> T:
        """Whatever runs here leaves with our StorageError family, never a bare sqlite3 error."""
        if self.damaged is not None:
            raise DatabaseDamaged(self.damaged.message)
        try:
            return fn(*args)
        except (sqlite3.Error, UnicodeDecodeError, DatabaseDamaged) as exc:
            if undecodable(exc) and self.conn.text_factory is not lenient:
                # A damaged byte inside stored text (the file itself is sound): from now on such text is read with
                # U+FFFD in its place, and the call runs again (our calls read before they write, in transactions).
                self.conn.text_factory = lenient
                return self._guard(fn, *args)
            if isinstance(exc, DatabaseDamaged):
                self._note(exc)
                raise
            error = translate(exc, self.path)
            if isinstance(error, DatabaseReadOnly) and self.read_only is not None:
                error = type(self.read_only)(self.read_only.message)
            self._note(error)
            raise error from exc
        except DatabaseReadOnly as exc:  # translated by a guarded storage class
            if self.read_only is not None:
                raise type(self.read_only)(self.read_only.message) from exc
            raise

    def _note(self, error: StorageError) -> None:
        if isinstance(error, DatabaseDamaged) and self.damaged is None:
            self.damaged = error
            if self.path is not None:
                write_seal(self.path, damaged=True)  # the next start checks it all and keeps the file aside

    def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run on the database thread and wait (from any thread but the event loop's)."""
        if self._thread == threading.get_ident():
            return self._guard(fn, *args)
        return self._pool().submit(self._guard, fn, *args).result()

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run on the database thread without blocking the event loop."""
        import asyncio  # here, not at the top: a cached `ask` reads the database with no event loop at all

        return await asyncio.wrap_future(self._pool().submit(self._guard, fn, *args))

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        """Queue a write without waiting; it runs in order with every other call (its failure is in the future)."""
        return self._pool().submit(self._guard, fn, *args)

    async def drain(self) -> None:
        """Wait until every queued write has run."""
        await self.call(lambda: None)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        if self.path is None:
            self.conn.close()
        else:
            close_database(self.conn, self.path, sealed=self.damaged is None and self.read_only is None)
