"""One write transaction: BEGIN IMMEDIATE, then COMMIT, or ROLLBACK when the transaction is still open."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """SQLite itself rolls back on a full disk or an I/O error: a second ROLLBACK would replace that error (the one
    to report) with "cannot rollback - no transaction is active". Inside a caller's transaction, it joins it."""
    if conn.in_transaction:
        yield conn
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
