"""The storage boundary: sqlite3 errors become our StorageError family, with a message that says what to do."""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec, TypeVar

from assistant.core.errors import DatabaseDamaged, DatabaseLocked, DatabaseReadOnly, DiskFull, StorageError

P = ParamSpec("P")
T = TypeVar("T")

# SQLite's primary result codes (the low byte of an extended code).
_BUSY, _LOCKED, _READONLY, _IOERR, _CORRUPT, _FULL, _CANTOPEN, _NOTADB = 5, 6, 8, 10, 11, 13, 14, 26


def _code(exc: sqlite3.Error) -> int:
    return int(getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF


def is_damage(exc: BaseException) -> bool:
    """Damage of the file itself, as opposed to a full disk, a lock or a permission."""
    if not isinstance(exc, sqlite3.DatabaseError):
        return False
    text = str(exc).lower()
    return _code(exc) in (_CORRUPT, _NOTADB) or "malformed" in text or "not a database" in text


def translate(exc: sqlite3.Error | UnicodeDecodeError, path: Path | str | None = None) -> StorageError:
    """The most specific of our storage errors, with a message that says what to do; the cause is kept by callers."""
    where = f"The database {path}" if path else "The database"
    if undecodable(exc) or not isinstance(exc, sqlite3.Error):  # we only store UTF-8: anything else is damage
        return DatabaseDamaged(f"{where} is damaged (stored text is no longer UTF-8); {_DAMAGE_HINT}")
    code, text = _code(exc), str(exc).lower()
    if code == _FULL or "disk is full" in text:
        return DiskFull(full_message(path))
    if code in (_BUSY, _LOCKED) or "locked" in text or "busy" in text:
        return DatabaseLocked(f"{where} is busy (another assistant or program holds a lock); close it and try again.")
    if code == _READONLY or "readonly" in text or "read-only" in text:
        return DatabaseReadOnly(f"{where} is read-only; check the permissions of the file and its folder "
                                "(or set ASSISTANT_HOME to a writable folder).")
    if is_damage(exc):
        return DatabaseDamaged(f"{where} is damaged ({exc}); {_DAMAGE_HINT}")
    if code == _CANTOPEN or "unable to open" in text:
        return StorageError(f"Cannot open {where.lower().removeprefix('the ')}; check that its folder exists and is "
                            "writable (or set ASSISTANT_HOME).")
    if code == _IOERR or "disk i/o" in text:
        return StorageError(f"{where} could not be read or written (disk I/O error); check the disk and try again.")
    return StorageError(f"{where} refused an operation ({exc}).")


_DAMAGE_HINT = ("nothing more is written to it. Run the command again: the file is kept aside, a fresh one started, "
                "and what can be read copied into it.")


def undecodable(exc: BaseException | None) -> bool:
    """Stored text that is not UTF-8: Python's sqlite3 says so for a column ("Could not decode to UTF-8"), and
    raises UnicodeDecodeError for a message of SQLite's that quotes damaged bytes."""
    if exc is None:
        return False
    if isinstance(exc, UnicodeDecodeError) or "could not decode to utf-8" in str(exc).lower():
        return True
    return isinstance(exc, StorageError) and undecodable(exc.__cause__)


def database_path(conn: sqlite3.Connection | None) -> str | None:
    """The file a connection has open (named in messages that tell the user what to do with it)."""
    try:
        rows = conn.execute("PRAGMA database_list").fetchall() if conn is not None else []
    except sqlite3.Error:
        return None
    return next((str(r[2]) for r in rows if r[1] == "main" and r[2]), None)


def boundary(method: Callable[P, T]) -> Callable[P, T]:
    """sqlite3 errors leave storage as our own StorageError family, the original kept as the cause."""
    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return method(*args, **kwargs)
        except (sqlite3.Error, UnicodeDecodeError) as exc:
            raise translate(exc, database_path(getattr(args[0], "conn", None)) if args else None) from exc
    return wrapper


def guarded(cls: type[T]) -> type[T]:
    """Apply `boundary` to every public method of a storage class."""
    for name, value in list(vars(cls).items()):
        if callable(value) and not name.startswith("_"):
            setattr(cls, name, boundary(value))
    return cls

def full_message(path: Path | str | None) -> str:
    where = f"The database {path}" if path else "The database"
    return (f"{where} cannot grow: the disk is full. Nothing stored was lost; free some space on that disk and "
            "try again.")
