"""The team cache's counters summed over every process, so `assistant cache stats` can say what happened."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping

from assistant.storage.boundary import guarded


@guarded
class TeamLedger:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def add(self, counts: Mapping[str, int]) -> None:
        rows = [(name, value) for name, value in counts.items() if value]
        if rows:
            self.conn.executemany("INSERT INTO team_counts (name, value) VALUES (?, ?) "
                                  "ON CONFLICT(name) DO UPDATE SET value = value + excluded.value", rows)

    def totals(self) -> dict[str, int]:
        return {str(name): int(value) for name, value in self.conn.execute("SELECT name, value FROM team_counts")}
