"""Ordered, named schema migrations, each recorded in the _migrations table once applied."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from typing import Any

from assistant.storage.tx import transaction

Migration = Callable[[Any], None]  # receives a sqlite_utils.Database
MIGRATIONS: list[tuple[str, Migration]] = []


def migration(fn: Migration) -> Migration:
    MIGRATIONS.append((fn.__name__, fn))
    return fn


@migration
def m001_conversations_messages_calls(db: Any) -> None:
    db["conversations"].create(
        {"id": str, "title": str, "created_at": float, "updated_at": float, "model": str, "system": str, "temperature": float},
        pk="id",
    )
    db["messages"].create(
        {"id": int, "conversation_id": str, "role": str, "content": str, "status": str, "created_at": float,
         "provider": str, "model": str, "pid": int},
        pk="id",
        foreign_keys=[("conversation_id", "conversations", "id")],
    )
    db["calls"].create(
        {"id": int, "request_id": str, "conversation_id": str, "message_id": int, "created_at": float,
         "provider": str, "model": str, "input_tokens": int, "output_tokens": int, "cost_usd": float,
         "cost_estimated": int, "saved_usd": float, "saved_source": str, "baseline": str, "cached": int,
         "ttft_ms": float, "total_ms": float, "outcome": str, "error_kind": str, "route_reason": str},
        pk="id",
    )
    db["messages"].create_index(["conversation_id", "id"], index_name="idx_messages_conversation")
    db["conversations"].create_index(["updated_at"], index_name="idx_conversations_updated")
    db["calls"].create_index(["created_at"], index_name="idx_calls_created")
    db["calls"].create_index(["provider", "model", "created_at"], index_name="idx_calls_model")


@migration
def m002_message_chunks_and_search(db: Any) -> None:
    # Streamed tokens land here one row each, so a crash loses only what had not arrived.
    db["message_chunks"].create({"message_id": int, "seq": int, "text": str}, pk=("message_id", "seq"))
    db["messages"].enable_fts(["content"], fts_version="FTS5", create_triggers=True, tokenize="porter unicode61")
    db["messages"].create_index(["status"], index_name="idx_messages_status")


@migration
def m003_response_cache(db: Any) -> None:
    db.execute(
        """CREATE TABLE response_cache (
            key TEXT PRIMARY KEY, provider TEXT NOT NULL, model TEXT NOT NULL, text TEXT NOT NULL,
            input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, cost_usd REAL NOT NULL,
            cost_estimated INTEGER NOT NULL DEFAULT 0, ttft_ms REAL, total_ms REAL,
            created_at REAL NOT NULL, last_used_at REAL NOT NULL, hits INTEGER NOT NULL DEFAULT 0,
            size_bytes INTEGER NOT NULL) WITHOUT ROWID"""
    )
    db.execute("CREATE INDEX idx_cache_lru ON response_cache(last_used_at)")
    db.execute("CREATE INDEX idx_cache_model ON response_cache(provider, model)")
    db["calls"].add_column("cache_key", str)
    db["calls"].create_index(["request_id"], index_name="idx_calls_request")


@migration
def m004_cache_limits_and_stats(db: Any) -> None:
    # Rebuilt as a rowid table: in a WITHOUT ROWID table a 2 KB answer spills into an overflow page, which made
    # every persistent-tier hit twice as slow (13 us against 7 us for the lookup in a 100,000-entry table).
    db.execute(
        """CREATE TABLE response_cache_v2 (
            id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, provider TEXT NOT NULL, model TEXT NOT NULL,
            text TEXT NOT NULL, input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, cost_usd REAL NOT NULL,
            cost_estimated INTEGER NOT NULL DEFAULT 0, ttft_ms REAL, total_ms REAL, created_at REAL NOT NULL,
            last_used_at REAL NOT NULL, hits INTEGER NOT NULL DEFAULT 0, size_bytes INTEGER NOT NULL,
            scheme INTEGER NOT NULL DEFAULT 1)"""
    )
    cols = ("key, provider, model, text, input_tokens, output_tokens, cost_usd, cost_estimated, ttft_ms, total_ms, "
            "created_at, last_used_at, hits, size_bytes")
    db.execute(f"INSERT INTO response_cache_v2 ({cols}) SELECT {cols} FROM response_cache")
    db.execute("DROP TABLE response_cache")
    db.execute("ALTER TABLE response_cache_v2 RENAME TO response_cache")
    # LRU eviction and the size check read (last_used_at, size_bytes) from the index alone, never the answers.
    db.execute("CREATE INDEX idx_cache_lru ON response_cache(last_used_at, size_bytes)")
    db.execute("CREATE INDEX idx_cache_created ON response_cache(created_at)")
    db.execute("CREATE INDEX idx_cache_model ON response_cache(provider, model)")
    # Bumped whenever entries are removed or replaced, so other processes drop their in-memory copies.
    db.execute("CREATE TABLE cache_state (id INTEGER PRIMARY KEY CHECK (id = 1), generation INTEGER NOT NULL)")
    db.execute("INSERT INTO cache_state (id, generation) VALUES (1, 0)")
    # 1 on an answer whose request looked in the cache and missed: the denominator of the hit rate.
    db["calls"].add_column("cache_eligible", int)


@migration
def m005_calls_settled_after_crash(db: Any) -> None:
    # An attempt is written when it starts (outcome 'pending', with its process id) and settled when it ends,
    # so an answer killed mid-stream still counts toward savings and the monthly budget.
    db.execute("ALTER TABLE calls ADD COLUMN pid INTEGER")
    db.execute("CREATE INDEX idx_calls_outcome ON calls(outcome)")


@migration
def m020_message_tree(db: Any) -> None:
    # Conversations become trees: each message points at the one before it in its branch, and the conversation
    # remembers the last message of the branch on screen. Editing an earlier question or regenerating an answer
    # adds a sibling instead of replacing anything, so every earlier branch stays reachable.
    db.execute("ALTER TABLE messages ADD COLUMN parent_id INTEGER")
    db.execute("ALTER TABLE conversations ADD COLUMN leaf_id INTEGER")
    # Until now each conversation was one line of messages in id order. (No index on parent_id: a conversation's
    # links are read whole through idx_messages_conversation.)
    db.execute(
        """UPDATE messages SET parent_id = (SELECT max(p.id) FROM messages p
           WHERE p.conversation_id = messages.conversation_id AND p.id < messages.id)"""
    )
    db.execute("UPDATE conversations SET leaf_id = (SELECT max(m.id) FROM messages m WHERE m.conversation_id = conversations.id)")


@migration
def m021_message_digests(db: Any) -> None:
    # The blake3 of each message's text, written once when the message is stored: the cache key of a long
    # conversation then hashes 33 bytes per earlier message instead of its whole text (NULL: computed when read).
    db.execute("ALTER TABLE messages ADD COLUMN digest BLOB")


@migration
def m022_private_conversations_and_team_counts(db: Any) -> None:
    # A private conversation never reads from or writes to the team cache (the TUI's switch, `ask --private`).
    db.execute("ALTER TABLE conversations ADD COLUMN private INTEGER NOT NULL DEFAULT 0")
    # The team cache's counters (lookups, rejected entries, dropped writes) summed over every process.
    db.execute("CREATE TABLE team_counts (name TEXT PRIMARY KEY, value INTEGER NOT NULL)")


@migration
def m024_tool_calls(db: Any) -> None:
    # Every tool call an answer made: what was asked (arguments), who let it run, how it ended and what came back
    # (capped, as the model read it), in the order of the model's rounds and of the calls within each.
    db.execute(
        """CREATE TABLE tool_calls (
            id INTEGER PRIMARY KEY, request_id TEXT NOT NULL, conversation_id TEXT, message_id INTEGER,
            round INTEGER NOT NULL, seq INTEGER NOT NULL, server TEXT NOT NULL, tool TEXT NOT NULL,
            arguments TEXT NOT NULL, status TEXT NOT NULL, approved_by TEXT NOT NULL, result TEXT NOT NULL,
            truncated INTEGER NOT NULL DEFAULT 0, elapsed_ms REAL NOT NULL, created_at REAL NOT NULL)"""
    )
    db.execute("CREATE INDEX idx_tool_calls_message ON tool_calls(message_id, round, seq)")
    db.execute("CREATE INDEX idx_tool_calls_conversation ON tool_calls(conversation_id)")


@migration
def m010_semantic_cache(db: Any) -> None:
    # One row per answer the semantic tier may reuse: the question and what its context must agree on. The
    # answer itself stays in response_cache (cache_key); a row whose answer is gone is dropped when met. Ids
    # only grow (AUTOINCREMENT), so another process finds what is new by the highest id it has seen.
    db.execute(
        """CREATE TABLE semantic_cache (
            id INTEGER PRIMARY KEY AUTOINCREMENT, cache_key TEXT NOT NULL UNIQUE, model TEXT NOT NULL, settings TEXT NOT NULL,
            prompt TEXT NOT NULL, context_user TEXT NOT NULL DEFAULT '', context_assistant TEXT NOT NULL DEFAULT '',
            system TEXT NOT NULL DEFAULT '', threshold REAL, created_at REAL NOT NULL,
            hits INTEGER NOT NULL DEFAULT 0, last_hit_at REAL)"""
    )
    # Vectors (float16) per embedding model: those of two models are never compared, and switching models
    # re-embeds the questions from their text.
    db.execute(
        """CREATE TABLE semantic_vectors (
            embedder TEXT NOT NULL, entry_id INTEGER NOT NULL, vector BLOB NOT NULL, user_vector BLOB,
            assistant_vector BLOB, PRIMARY KEY (embedder, entry_id)) WITHOUT ROWID"""
    )
    # A served pair the user marked wrong: that entry never answers that conversation again.
    db.execute(
        """CREATE TABLE semantic_forgotten (
            entry_id INTEGER NOT NULL, pair TEXT NOT NULL, similarity REAL NOT NULL, created_at REAL NOT NULL,
            PRIMARY KEY (entry_id, pair)) WITHOUT ROWID"""
    )
    # Counters for `cache stats`: near misses (a close question refused) and suggestions declined.
    db.execute("CREATE TABLE semantic_counts (name TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID")
    # A reused answer records which entry it came from and how similar the questions were.
    db.execute("ALTER TABLE calls ADD COLUMN similar_entry INTEGER")
    db.execute("ALTER TABLE calls ADD COLUMN similarity REAL")
    db.execute("CREATE INDEX idx_calls_similar ON calls(message_id) WHERE similarity IS NOT NULL")


@migration
def m025_message_attachments(db: Any) -> None:
    # Files sent with a prompt, stored once by content hash (the same file attached again costs nothing), and
    # linked to the messages that carried them, in order.
    db.execute(
        """CREATE TABLE attachment_blobs (
            digest TEXT PRIMARY KEY, mime TEXT NOT NULL, size INTEGER NOT NULL, width INTEGER NOT NULL DEFAULT 0,
            height INTEGER NOT NULL DEFAULT 0, data BLOB NOT NULL)"""
    )
    db.execute(
        """CREATE TABLE message_attachments (
            message_id INTEGER NOT NULL, seq INTEGER NOT NULL, name TEXT NOT NULL, digest TEXT NOT NULL,
            PRIMARY KEY (message_id, seq))"""
    )
    db.execute("CREATE INDEX idx_message_attachments_digest ON message_attachments(digest)")


@migration
def m026_calls_by_conversation(db: Any) -> None:
    # Opening a conversation reads its answers' attempts, and a failed question asked again checks its calls:
    # without this each of those read every call ever made (14 ms at 200,000 calls; 0.09 ms with it).
    db.execute("CREATE INDEX idx_calls_conversation ON calls(conversation_id)")


def pending(conn: sqlite3.Connection, *, read_only: bool = False) -> list[str]:
    """Names not yet applied; plain sqlite3 so the common case never imports sqlite_utils."""
    if not read_only:
        conn.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)")
    elif not conn.execute("SELECT 1 FROM sqlite_master WHERE name = '_migrations'").fetchone():
        return [name for name, _ in MIGRATIONS]
    done = {row[0] for row in conn.execute("SELECT name FROM _migrations")}
    return [name for name, _ in MIGRATIONS if name not in done]


def migrate(conn: sqlite3.Connection, upto: str | None = None) -> list[str]:
    """Apply pending migrations in order (each in its own transaction); return their names."""
    todo = pending(conn)
    if not todo:
        return []
    import sqlite_utils

    db = sqlite_utils.Database(conn)
    applied = []
    for name, fn in MIGRATIONS:
        if name not in todo:
            continue
        with transaction(conn):
            # Another process may have applied it while we waited for the lock.
            if conn.execute("SELECT 1 FROM _migrations WHERE name = ?", (name,)).fetchone():
                continue
            fn(db)
            conn.execute("INSERT INTO _migrations (name, applied_at) VALUES (?, ?)", (name, time.time()))
        applied.append(name)
        if name == upto:
            break
    return applied
