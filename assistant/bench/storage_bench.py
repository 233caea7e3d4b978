"""Storage costs: recording one request the way the engine does, and full-text history search over many conversations."""

from __future__ import annotations

import random
import statistics
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

_WORDS = ["python", "sqlite", "engine", "cache", "router", "latency", "token", "stream", "model", "answer", "question", "paris", "capital", "france", "kernel", "memory", "thread", "socket", "network", "budget", "cloud", "local", "terminal", "widget", "history", "search", "export"]

if TYPE_CHECKING:
    from assistant.storage.history import History


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def _record_one(h: History, answer: str, chunks: int) -> None:
    """The writes of one answered request: conversation, question, streamed answer, folded, call row."""
    from assistant.core.records import CallRecord
    from assistant.storage.calls import CallLog

    cid = h.create_conversation("How do I benchmark SQLite?")
    h.add_message(cid, "user", "How do I benchmark SQLite?")
    mid = h.start_answer(cid, "ollama", "bench:latest")
    for seq in range(chunks):
        h.append_chunk(mid, seq, answer)
    h.finish_answer(mid, "complete", answer * chunks)
    CallLog(h.conn).record(CallRecord(uuid.uuid4().hex, cid, mid, "ollama", "bench:latest", "ok", 12, chunks,
                                      ttft_ms=1.0, total_ms=10.0, route_reason="bench"))
    h.touch(cid)


def populate(conn: object, conversations: int, rng: random.Random) -> None:
    """Bulk-load conversations of one question and one answer each (FTS triggers fire as in real use)."""
    now = time.time()
    conv_rows, msg_rows = [], []
    for i in range(conversations):
        cid = f"c{i:08d}"
        question = " ".join(rng.choices(_WORDS, k=12))
        answer = " ".join(rng.choices(_WORDS, k=80))
        conv_rows.append((cid, question[:60], now - i, now - i))
        msg_rows.append((cid, "user", question, "complete", now - i))
        msg_rows.append((cid, "assistant", answer, "complete", now - i))
    db: Any = conn
    db.execute("BEGIN IMMEDIATE")
    db.executemany("INSERT INTO conversations (id, title, created_at, updated_at) VALUES (?,?,?,?)", conv_rows)
    db.executemany("INSERT INTO messages (conversation_id, role, content, status, created_at) VALUES (?,?,?,?,?)", msg_rows)
    db.execute("COMMIT")


def run_storage_bench(workdir: Path, records: int = 300, conversations: int = 100_000, searches: int = 200) -> dict[str, float]:
    """Median cost of recording one request (20 streamed chunks), and search p50/p99 over `conversations`."""
    from assistant.storage.db import open_database
    from assistant.storage.history import History, fts_query

    rng = random.Random(7)
    conn = open_database(workdir / "storage-bench.db").conn
    try:
        history = History(conn)
        for _ in range(10):  # warm-up
            _record_one(history, " word", 20)
        costs = []
        for _ in range(records):
            t0 = time.perf_counter()
            _record_one(history, " word", 20)
            costs.append(time.perf_counter() - t0)
        chunk_costs = []
        mid = history.start_answer(history.latest_conversation_id() or "", "ollama", "bench:latest")
        for seq in range(records):
            t0 = time.perf_counter()
            history.append_chunk(mid, seq, " word")
            chunk_costs.append(time.perf_counter() - t0)
        history.finish_answer(mid, "complete")

        search_conn = open_database(workdir / "search-bench.db").conn
        try:
            populate(search_conn, conversations, rng)
            searcher = History(search_conn)
            searcher.search("python")  # warm-up
            # The floor: the same FTS5 match in the same order and limit, with no join, snippet or records built.
            floor_sql = "SELECT rowid FROM messages_fts WHERE messages_fts MATCH ? ORDER BY rowid DESC LIMIT 50"
            times, floor = [], []
            for _ in range(searches):
                words = " ".join(rng.sample(_WORDS, 2))
                t0 = time.perf_counter()
                searcher.search(words, limit=50)
                times.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                search_conn.execute(floor_sql, (fts_query(words),)).fetchall()
                floor.append(time.perf_counter() - t0)
        finally:
            search_conn.close()
    finally:
        conn.close()
    return {
        "storage_record_request_ms": statistics.median(costs) * 1e3,
        "storage_append_chunk_us": statistics.median(chunk_costs) * 1e6,
        "history_search_p50_ms": _percentile(times, 50) * 1e3,
        "history_search_p99_ms": _percentile(times, 99) * 1e3,
        "history_search_floor_p99_ms": _percentile(floor, 99) * 1e3,
        "history_search_p99_ratio": _percentile(times, 99) / _percentile(floor, 99),
        "history_conversations": float(conversations),
    }
