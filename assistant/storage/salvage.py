"""Copy what can still be read from a damaged database into a sound one: conversations, messages, costs, the cache.

Rows are read in rowid order; where a page cannot be read, the rows around it are probed one by one, so one bad page
costs only the rows stored on it. The damaged file is read from a copy and never written.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from assistant.core.records import SalvageReport
from assistant.storage.integrity import lenient
from assistant.storage.tx import transaction

BATCH = 500
PROBE_LIMIT = 200_000  # single-row probes per table past unreadable pages (a few seconds at most)
# Written by the schema of the sound database itself, or rebuilt from the rows copied (the search index).
SKIPPED = {"_migrations", "cache_state", "message_chunks", "conversations", "messages", "calls", "response_cache"}
Row = dict[str, Any]


class _Reader:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.unreadable = 0

    def schema(self) -> list[tuple[str, str]] | None:
        """(name, sql) of every table; None when not even that can be read."""
        rows = self._one("SELECT name, sql FROM sqlite_master WHERE type = 'table'", ())
        return None if rows is None else [(str(r[0]), str(r[1] or "")) for r in rows]

    def columns(self, table: str) -> list[str]:
        return [str(r[1]) for r in self._one(f'PRAGMA table_info("{table}")', ()) or []]

    def _one(self, sql: str, args: tuple[Any, ...]) -> list[Any] | None:
        try:
            return list(self.conn.execute(sql, args).fetchall())
        except (sqlite3.DatabaseError, UnicodeDecodeError):  # SQLite's message may quote damaged bytes
            return None

    def rows(self, table: str, wanted: list[str]) -> Iterator[Row]:
        """Every readable row of `table`, in rowid order."""
        cols = ", ".join(f'"{c}"' for c in wanted)
        scan = f'SELECT rowid, {cols} FROM "{table}" WHERE rowid > ? ORDER BY rowid LIMIT {BATCH}'
        probe = f'SELECT rowid, {cols} FROM "{table}" WHERE rowid = ?'
        top = self._one(f'SELECT max(rowid) FROM "{table}"', ())
        last = int(top[0][0]) if top and top[0][0] is not None else None
        after = -(2**63)
        while True:
            batch = self._one(scan, (after,))
            if batch is None:
                batch = self._one(scan.replace(f"LIMIT {BATCH}", "LIMIT 1"), (after,))
            if batch is None:  # the next page is unreadable: probe the rowids after it one at a time
                self.unreadable += 1
                found = None
                start = max(after, 0)
                for rowid in range(start + 1, start + 1 + PROBE_LIMIT):
                    if last is not None and rowid > last:
                        break
                    hit = self._one(probe, (rowid,))
                    if hit:
                        found = hit
                        break
                if not found:
                    return
                batch = found
            if not batch:
                return
            for row in batch:
                yield dict(zip(wanted, row[1:], strict=True))
            after = int(batch[-1][0])


def _insert(conn: sqlite3.Connection, table: str, row: Row, verb: str = "INSERT OR IGNORE") -> int:
    cols = ", ".join(f'"{c}"' for c in row)
    cur = conn.execute(f'{verb} INTO "{table}" ({cols}) VALUES ({", ".join("?" * len(row))})', tuple(row.values()))
    return int(cur.rowcount or 0)


def _shared(reader: _Reader, target: sqlite3.Connection, table: str) -> list[str]:
    theirs = reader.columns(table)
    ours = {str(r[1]) for r in target.execute(f'PRAGMA table_info("{table}")').fetchall()}
    return [c for c in theirs if c in ours]


def _title(messages: list[Row]) -> str:
    first = next((m.get("content") for m in messages if m.get("role") == "user" and m.get("content")), None)
    line = " ".join(str(first or "").split())
    return (line[:60] + ("…" if len(line) > 60 else "")) or "Recovered conversation"


class _Copier:
    def __init__(self, reader: _Reader, target: sqlite3.Connection, schema: list[tuple[str, str]]) -> None:
        self.reader = reader
        self.target = target
        self.schema = schema
        self.tables = {t for t, _ in schema}
        self.new_ids: dict[int, int] = {}  # message id in the damaged file -> in the sound one
        self.report: dict[str, int] = {"conversations": 0, "messages": 0, "calls": 0, "cached": 0}

    def conversations_and_messages(self) -> None:
        reader, target = self.reader, self.target
        self.conversation_columns = _shared(reader, target, "conversations")
        convs = {str(r["id"]): r for r in reader.rows("conversations", self.conversation_columns)}
        # A digest is recomputed when read (NULL); one read from a damaged file may not match its text.
        cols = [c for c in _shared(reader, target, "messages") if c != "digest"]
        by_conv: dict[str, list[Row]] = {}
        for m in reader.rows("messages", cols):
            by_conv.setdefault(str(m.get("conversation_id")), []).append(m)
        chunks: dict[int, list[str]] = {}
        if "message_chunks" in self.tables:
            for c in reader.rows("message_chunks", ["message_id", "seq", "text"]):
                chunks.setdefault(int(c["message_id"]), []).append(str(c["text"] or ""))
        for cid in list(convs) + [c for c in by_conv if c not in convs]:
            messages = by_conv.get(cid, [])
            conv = convs.get(cid) or {"id": cid, "title": _title(messages),
                                      "created_at": min((m.get("created_at") or 0 for m in messages), default=0),
                                      "updated_at": max((m.get("created_at") or 0 for m in messages), default=0)}
            leaf = conv.pop("leaf_id", None)
            if not _insert(target, "conversations", conv):
                continue  # already in the sound database (recovered before, or never lost)
            self.report["conversations"] += 1
            for m in sorted(messages, key=lambda m: int(m.get("id") or 0)):  # a parent before its children
                old = m.get("id")
                if m.get("status") == "streaming":  # its text was still in chunks when the file broke
                    m = {**m, "status": "interrupted", "content": "".join(chunks.get(int(old or 0), []))}
                if m.get("parent_id") is not None:
                    m["parent_id"] = self.new_ids.get(int(m["parent_id"]))  # None: its parent could not be read
                if not _insert(target, "messages", m):
                    m = {k: v for k, v in m.items() if k != "id"}  # that id is taken here: a new one
                    _insert(target, "messages", m, "INSERT")
                self.new_ids[int(old or 0)] = int(target.execute("SELECT last_insert_rowid()").fetchone()[0])
                self.report["messages"] += 1
            if "leaf_id" in self.conversation_columns:  # the branch on screen, or the last message copied
                ids = [self.new_ids[int(m.get("id") or 0)] for m in messages]
                end = self.new_ids.get(int(leaf)) if leaf is not None else None
                target.execute("UPDATE conversations SET leaf_id = ? WHERE id = ?", (end or max(ids, default=None), cid))

    def calls(self) -> None:
        cols = [c for c in _shared(self.reader, self.target, "calls") if c != "id"]
        for call in self.reader.rows("calls", cols):
            seen = self.target.execute(
                "SELECT 1 FROM calls WHERE request_id IS ? AND created_at IS ? AND provider IS ? AND model IS ?",
                (call.get("request_id"), call.get("created_at"), call.get("provider"), call.get("model"))).fetchone()
            if seen:
                continue
            if call.get("message_id") is not None:
                call["message_id"] = self.new_ids.get(int(call["message_id"]))
            self.report["calls"] += _insert(self.target, "calls", call, "INSERT")

    def cache(self) -> None:
        cols = [c for c in _shared(self.reader, self.target, "response_cache") if c != "id"]
        for entry in self.reader.rows("response_cache", cols):
            self.report["cached"] += _insert(self.target, "response_cache", entry)

    def owned_by_messages(self) -> None:
        """Rows of later features that belong to a message (its tool calls), copied with it under its new id.
        Other tables are derived (the similar-question index, counters) and rebuilt as the app runs: copied blindly
        their ids could point at the wrong rows of a database that already holds some."""
        ours = {str(r[0]) for r in self.target.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        for table, _ in self.schema:
            if table in SKIPPED or table not in ours or table.startswith("sqlite_"):
                continue
            cols = _shared(self.reader, self.target, table)
            if "message_id" not in cols:
                continue
            for row in self.reader.rows(table, cols):
                if row["message_id"] is None or int(row["message_id"]) not in self.new_ids:
                    continue
                row = {k: v for k, v in row.items() if k != "id"}
                row["message_id"] = self.new_ids[int(row["message_id"])]
                _insert(self.target, table, row)

    def run(self) -> None:
        for step, needs in ((self.conversations_and_messages, "messages"), (self.calls, "calls"),
                            (self.cache, "response_cache"), (self.owned_by_messages, "")):
            if not needs or needs in self.tables:
                step()


def salvage(source: Path, target: sqlite3.Connection) -> SalvageReport:
    """Copy every readable row of `source` into `target` (a database of ours), in one transaction."""
    with tempfile.TemporaryDirectory(prefix="assistant-salvage-") as tmp:
        copy = Path(tmp) / "damaged.db"
        shutil.copyfile(source, copy)
        wal = source.with_name(source.name + "-wal")  # it holds the latest committed pages
        if wal.exists():
            shutil.copyfile(wal, copy.with_name(copy.name + "-wal"))
        conn = sqlite3.connect(copy, isolation_level=None)
        conn.text_factory = lenient  # a flipped byte inside a text keeps the rest of it
        try:
            reader = _Reader(conn)
            schema = reader.schema()
            if schema is None:
                return SalvageReport(str(source), readable=False)
            copier = _Copier(reader, target, schema)
            with transaction(target):
                copier.run()
        finally:
            conn.close()
    r = copier.report
    return SalvageReport(str(source), r["conversations"], r["messages"], r["calls"], r["cached"], reader.unreadable)
