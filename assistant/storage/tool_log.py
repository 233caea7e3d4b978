"""The tool_calls table: each call an answer made, its arguments, who approved it, and its result."""

from __future__ import annotations

import sqlite3
import time

from assistant.core.records import StoredToolCall
from assistant.core.tools import ToolResult, arguments_json
from assistant.storage.boundary import guarded

_COLS = "message_id, round, seq, server, tool, arguments, status, approved_by, result, truncated, elapsed_ms, created_at"


@guarded
class ToolLog:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def record(self, request_id: str, conversation_id: str, message_id: int | None, round_no: int, seq: int,
               result: ToolResult) -> None:
        self.conn.execute(
            "INSERT INTO tool_calls (request_id, conversation_id, message_id, round, seq, server, tool, arguments, "
            "status, approved_by, result, truncated, elapsed_ms, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (request_id, conversation_id, message_id, round_no, seq, result.server, result.tool,
             arguments_json(result.arguments), result.status, result.approved_by, result.text, int(result.truncated),
             result.elapsed_ms, time.time()),
        )

    def of_conversation(self, conversation_id: str) -> list[StoredToolCall]:
        """Every call of the conversation's answers, answer by answer, in the order they were made."""
        rows = self.conn.execute(
            f"SELECT {_COLS} FROM tool_calls WHERE conversation_id = ? ORDER BY message_id, round, seq, id",
            (conversation_id,),
        ).fetchall()
        return [_stored(r) for r in rows]


def _stored(row: tuple[object, ...]) -> StoredToolCall:
    message_id, round_no, seq, server, tool, arguments, status, approved_by, result, truncated, elapsed, created = row
    return StoredToolCall(None if message_id is None else int(str(message_id)), int(str(round_no)), int(str(seq)),
                          str(server), str(tool), str(arguments), str(status), str(approved_by), str(result),
                          bool(truncated), float(str(elapsed)), float(str(created)))
