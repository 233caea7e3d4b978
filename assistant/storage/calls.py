"""The calls table: one row per attempt at a model, what it cost and saved; the source of savings, budget and health."""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING

from assistant.core.records import CallRecord
from assistant.storage.boundary import guarded
from assistant.storage.db import alive

if TYPE_CHECKING:
    from assistant.core.reports import HitWindow


@dataclass(frozen=True)
class Unsettled:
    """An attempt whose process died before it ended: what arrived, so its cost can be settled."""

    row_id: int
    provider: str
    model: str
    input_tokens: int
    answer_chars: int


@guarded
class CallLog:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def record(self, call: CallRecord) -> int:
        data = _row(call)
        data["created_at"] = time.time()
        data["pid"] = os.getpid() if call.outcome == "pending" else None
        cols = ", ".join(data)
        cur = self.conn.execute(f"INSERT INTO calls ({cols}) VALUES ({', '.join('?' * len(data))})", tuple(data.values()))
        return int(cur.lastrowid or 0)

    def settle(self, row_id: int, call: CallRecord) -> None:
        """Complete an attempt recorded as pending when it started (so a crash never hides what was spent)."""
        data = _row(call)
        data.pop("request_id")
        for link in ("conversation_id", "message_id"):
            if data[link] is None:  # not known to the caller: keep what the row already has
                data.pop(link)
        data["pid"] = None
        sets = ", ".join(f"{k} = ?" for k in data)
        self.conn.execute(f"UPDATE calls SET {sets} WHERE id = ?", (*data.values(), row_id))

    def link_message(self, row_id: int, message_id: int) -> None:
        self.conn.execute("UPDATE calls SET message_id = ? WHERE id = ?", (message_id, row_id))

    def unsettled(self) -> list[Unsettled]:
        """Pending attempts of processes that are gone, with how much of the answer had arrived."""
        rows = self.conn.execute(
            "SELECT c.id, c.pid, c.provider, c.model, c.input_tokens, "
            "coalesce(length(m.content), 0) + coalesce((SELECT sum(length(text)) FROM message_chunks k "
            "WHERE k.message_id = c.message_id), 0) "
            "FROM calls c LEFT JOIN messages m ON m.id = c.message_id WHERE c.outcome = 'pending'"
        ).fetchall()
        return [Unsettled(int(r[0]), str(r[2]), str(r[3]), int(r[4] or 0), int(r[5] or 0))
                for r in rows if not alive(r[1])]

    def answers_of(self, conversation_id: str) -> list[CallRecord]:
        """The attempt that produced each answer of a conversation (outcome ok), oldest first."""
        cols = ", ".join(_COLUMNS)
        rows = self.conn.execute(f"SELECT {cols} FROM calls WHERE conversation_id = ? AND outcome = 'ok' "
                                 "AND message_id IS NOT NULL ORDER BY id", (conversation_id,)).fetchall()
        out = []
        for row in rows:
            data = dict(zip(_COLUMNS, row, strict=True))
            out.append(CallRecord(**{**data, "cached": bool(data["cached"]), "cost_estimated": bool(data["cost_estimated"])}))
        return out

    def month_spend(self, now: float | None = None) -> float:
        t = time.localtime(now or time.time())
        start = time.mktime((t.tm_year, t.tm_mon, 1, 0, 0, 0, 0, 0, -1))
        row = self.conn.execute("SELECT coalesce(sum(cost_usd), 0) FROM calls WHERE created_at >= ?", (start,)).fetchone()
        return float(row[0])

    def recent_outcomes(self, since: float) -> list[tuple[str, str, str | None, float]]:
        """(provider, outcome, error kind, time) of fresh calls since `since`, oldest first: the health history."""
        rows = self.conn.execute(
            "SELECT provider, outcome, error_kind, created_at FROM calls "
            "WHERE created_at >= ? AND cached = 0 AND outcome != 'refused' ORDER BY id", (since,),
        ).fetchall()
        return [(str(p), str(o), k, float(c)) for p, o, k, c in rows]

    def note_miss(self, request_id: str) -> None:
        """Mark a request's answer as one the cache was asked for and did not have (for hit-rate stats)."""
        self.conn.execute("UPDATE calls SET cache_eligible = 1 WHERE request_id = ? AND outcome = 'ok' AND cached = 0",
                          (request_id,))

    def hit_window(self, since: float = 0.0) -> HitWindow:
        """Cached rows are hits; fresh answers to requests that looked in the cache first are misses."""
        row = self.conn.execute(
            "SELECT total(cached = 1), total(cached = 0 AND outcome = 'ok' AND cache_eligible = 1), "
            "total(CASE WHEN cached = 1 THEN input_tokens + output_tokens END), "
            "total(CASE WHEN cached = 1 THEN saved_usd END) FROM calls WHERE created_at >= ?",
            (since,),
        ).fetchone()
        from assistant.core.reports import HitWindow

        return HitWindow(int(row[0]), int(row[1]), int(row[2]), float(row[3]))

    def similar_hits(self, since: float = 0.0) -> tuple[int, float]:
        """Answers reused from similar questions since `since`, and what they saved."""
        row = self.conn.execute("SELECT count(*), total(saved_usd) FROM calls WHERE similarity IS NOT NULL "
                                "AND cached = 1 AND created_at >= ?", (since,)).fetchone()
        return int(row[0]), float(row[1])

    def similar_declined(self) -> int:
        """Fresh answers given after the user chose not to reuse a similar question's answer."""
        row = self.conn.execute("SELECT count(*) FROM calls WHERE similarity IS NOT NULL AND cached = 0").fetchone()
        return int(row[0])


_COLUMNS = tuple(f.name for f in fields(CallRecord))


def _row(call: CallRecord) -> dict[str, object]:
    data = asdict(call)
    data["cached"] = int(call.cached)
    data["cost_estimated"] = int(call.cost_estimated)
    return data
