"""Conversations and messages: what the chat writes, and the queries history, search and export run."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import TypeVar

from assistant.core.cache_key import content_digest
from assistant.core.conversation import Conversation
from assistant.core.errors import UsageError
from assistant.core.records import SearchHit, StoredMessage, StoredToolCall
from assistant.core.types import Attachment
from assistant.storage import tree
from assistant.storage.boundary import guarded
from assistant.storage.db import finish_message
from assistant.storage.listing import CONVERSATION_COLUMNS, conversation, list_conversations
from assistant.storage.tool_log import ToolLog
from assistant.storage.tree import LEAF
from assistant.storage.tx import transaction

T = TypeVar("T")


def _title_from(prompt: str) -> str:
    line = " ".join(prompt.split())
    return line[:60] + ("…" if len(line) > 60 else "") or "New conversation"


@guarded
class History:
    """All reads and writes of conversations and messages, over one plain sqlite3 connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    # conversations -------------------------------------------------------
    def create_conversation(
        self, first_prompt: str, model: str | None = None, system: str | None = None, temperature: float | None = None,
        private: bool = False,
    ) -> str:
        cid = os.urandom(6).hex()  # 48 random bits, like the uuid4 prefix it replaces (uuid imports platform)
        now = time.time()
        self.conn.execute(
            "INSERT INTO conversations (id, title, created_at, updated_at, model, system, temperature, private) "
            "VALUES (?,?,?,?,?,?,?,?)",
            (cid, _title_from(first_prompt), now, now, model, system, temperature, int(private)),
        )
        return cid

    def resolve_id(self, ref: str) -> str:
        """Accept a full id or an unambiguous prefix, as git does."""
        ref = ref.strip()
        if not ref:
            raise UsageError("No conversation id given; `assistant history list` shows them.")
        rows = self.conn.execute(
            "SELECT id FROM conversations WHERE id >= ? AND id < ? LIMIT 2", (ref, ref + "\uffff")
        ).fetchall()
        if len(rows) == 1:
            return str(rows[0][0])
        if not rows:
            raise UsageError(f"No conversation '{ref}'; `assistant history list` shows the ids.")
        raise UsageError(f"'{ref}' matches several conversations; type more of the id.")

    def get_conversation(self, cid: str) -> Conversation:
        row = self.conn.execute(
            f"SELECT {CONVERSATION_COLUMNS}, (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id), c.private "
            "FROM conversations c WHERE c.id = ?",
            (self.resolve_id(cid),),
        ).fetchone()
        return conversation(row)

    def latest_conversation_id(self, answered: bool = False) -> str | None:
        """The most recent conversation; with `answered`, the most recent one that got an answer (what
        `--continue` resumes: a question that only failed is not a conversation to go on with)."""
        if not answered:
            row = self.conn.execute("SELECT id FROM conversations ORDER BY updated_at DESC LIMIT 1").fetchone()
        else:
            row = self.conn.execute(
                "SELECT c.id FROM conversations c WHERE EXISTS (SELECT 1 FROM messages m WHERE "
                "m.conversation_id = c.id AND m.role = 'assistant' AND m.content != '') "
                "ORDER BY c.updated_at DESC LIMIT 1").fetchone()
        return row[0] if row else None

    def failed_start(self, prompt: str, system: str | None, private: bool = False) -> tuple[str, int] | None:
        """(conversation, question) when the latest conversation is this same question whose asking failed and
        nothing else: asking it again continues there instead of leaving a one-question conversation behind."""
        row = self.conn.execute("SELECT id, system, private FROM conversations ORDER BY updated_at DESC LIMIT 1"
                                ).fetchone()
        if row is None or (row[1] or None) != (system or None) or bool(row[2]) != private:
            return None
        msgs = self.conn.execute("SELECT id, role, content FROM messages WHERE conversation_id = ? ORDER BY id LIMIT 2",
                                 (row[0],)).fetchall()
        if len(msgs) != 1 or msgs[0][1] != "user" or msgs[0][2] != prompt:
            return None
        # Failed, not still being answered by another process: an attempt ended in error and none is under way.
        outcomes = {r[0] for r in self.conn.execute("SELECT DISTINCT outcome FROM calls WHERE conversation_id = ?",
                                                    (row[0],))}
        if not outcomes & {"error", "refused"} or outcomes & {"pending", "ok", "interrupted"}:
            return None
        return str(row[0]), int(msgs[0][0])

    def list_conversations(self, limit: int = 50, offset: int = 0) -> list[Conversation]:
        return list_conversations(self.conn, limit, offset)

    def update_conversation(self, cid: str, **fields: object) -> None:
        allowed = {"title", "model", "system", "temperature", "private"}
        bad = set(fields) - allowed
        if bad:
            raise ValueError(f"cannot update {bad}")
        if not fields:
            return
        sets = ", ".join(f"{k} = ?" for k in fields)
        self.conn.execute(f"UPDATE conversations SET {sets} WHERE id = ?", (*fields.values(), self.resolve_id(cid)))

    def rename(self, cid: str, title: str) -> None:
        title = " ".join(title.split())
        if not title:
            raise UsageError("A conversation needs a title with some text in it.")
        self.update_conversation(cid, title=title)

    def atomically(self, writes: Callable[[], T]) -> T:
        """`writes` in one transaction: all of them or none (and one commit instead of several)."""
        with transaction(self.conn):
            return writes()

    def touch(self, cid: str) -> None:
        self.conn.execute("UPDATE conversations SET updated_at = ? WHERE id = ?", (time.time(), cid))

    def delete_conversation(self, cid: str) -> None:
        cid = self.resolve_id(cid)
        with transaction(self.conn):
            self.conn.execute(
                "DELETE FROM message_chunks WHERE message_id IN (SELECT id FROM messages WHERE conversation_id = ?)", (cid,)
            )
            self._drop_attachments(cid)
            self.conn.execute("DELETE FROM messages WHERE conversation_id = ?", (cid,))
            self.conn.execute("DELETE FROM tool_calls WHERE conversation_id = ?", (cid,))
            self.conn.execute("UPDATE calls SET conversation_id = NULL, message_id = NULL WHERE conversation_id = ?", (cid,))
            self.conn.execute("DELETE FROM conversations WHERE id = ?", (cid,))

    # messages --------------------------------------------------------------
    def _parent(self, cid: str, parent_id: int | None) -> int | None:
        return tree.leaf(self.conn, cid) if parent_id == LEAF else parent_id

    def add_message(self, cid: str, role: str, content: str, status: str = "complete", *,
                    parent_id: int | None = LEAF, digest: bytes | None = None) -> int:
        """A message after `parent_id` (by default the end of the branch on screen); it becomes that end."""
        parent = self._parent(cid, parent_id)
        cur = self.conn.execute(
            "INSERT INTO messages (conversation_id, role, content, status, created_at, parent_id, digest) "
            "VALUES (?,?,?,?,?,?,?)",
            (cid, role, content, status, time.time(), parent, digest or content_digest(content)),
        )
        mid = int(cur.lastrowid or 0)
        tree.set_leaf(self.conn, cid, mid)
        self.touch(cid)
        return mid

    def start_answer(self, cid: str, provider: str, model: str, *, parent_id: int | None = LEAF) -> int:
        """An empty assistant row marked streaming; chunks are appended as they arrive."""
        parent = self._parent(cid, parent_id)
        cur = self.conn.execute(
            "INSERT INTO messages (conversation_id, role, content, status, created_at, provider, model, pid, parent_id) "
            "VALUES (?, 'assistant', '', 'streaming', ?, ?, ?, ?, ?)",
            (cid, time.time(), provider, model, os.getpid(), parent),
        )
        mid = int(cur.lastrowid or 0)
        tree.set_leaf(self.conn, cid, mid)
        return mid

    def append_chunk(self, message_id: int, seq: int, text: str) -> None:
        self.conn.execute("INSERT INTO message_chunks (message_id, seq, text) VALUES (?,?,?)", (message_id, seq, text))

    def append_chunks(self, message_id: int, first_seq: int, texts: list[str]) -> None:
        """A batch of streamed text in one transaction: what a crash can lose is at most one batch. (Without the
        transaction each row commits on its own: 300 tokens wrote 2.6 MB of WAL instead of a few pages.)"""
        with transaction(self.conn):
            self.conn.executemany("INSERT INTO message_chunks (message_id, seq, text) VALUES (?,?,?)",
                                  [(message_id, first_seq + i, t) for i, t in enumerate(texts)])

    def finish_answer(self, message_id: int, status: str, text: str | None = None, provider: str | None = None,
                      model: str | None = None) -> str:
        if provider:
            self.conn.execute("UPDATE messages SET provider = ?, model = ? WHERE id = ?", (provider, model, message_id))
        return finish_message(self.conn, message_id, status, text)

    def messages(self, cid: str) -> list[StoredMessage]:
        """The branch on screen, first message first, each with its alternatives."""
        cid = self.resolve_id(cid)
        links = tree.links(self.conn, cid)
        return self._rows(links, tree.branch(links, tree.leaf(self.conn, cid, links)))

    def ancestors(self, cid: str, message_id: int | None) -> list[StoredMessage]:
        """The branch that ends at `message_id` (empty for None): what came before an edited question."""
        links = tree.links(self.conn, self.resolve_id(cid))
        return self._rows(links, tree.branch(links, message_id))

    def message(self, cid: str, message_id: int) -> StoredMessage:
        cid = self.resolve_id(cid)
        links = tree.links(self.conn, cid)
        if message_id not in links:
            raise UsageError(f"Message {message_id} is not part of conversation {cid}.")
        return self._rows(links, [message_id])[0]

    def switch_branch(self, cid: str, message_id: int) -> None:
        """Show the branch through `message_id`: down to its newest end, which is remembered."""
        cid = self.resolve_id(cid)
        links = tree.links(self.conn, cid)
        if message_id not in links:
            raise UsageError(f"Message {message_id} is not part of conversation {cid}.")
        if message_id not in tree.branch(links, tree.leaf(self.conn, cid, links)):
            tree.set_leaf(self.conn, cid, tree.newest_descendant(links, message_id))

    def _rows(self, links: tree.Links, ids: list[int]) -> list[StoredMessage]:
        if not ids:
            return []
        # An answer reused from a similar question carries its match (calls.similarity; a partial index keeps
        # this one lookup per answer that has one).
        found = {r[0]: r for r in self.conn.execute(
            "SELECT m.id, m.conversation_id, m.role, m.content, m.status, m.created_at, m.provider, m.model, "
            "m.parent_id, m.digest, s.similarity, s.similar_entry FROM messages m LEFT JOIN calls s "
            "ON s.message_id = m.id AND s.similarity IS NOT NULL AND s.cached = 1 "
            f"WHERE m.id IN ({','.join('?' * len(ids))})", ids)}
        children = tree.children(links)
        files = self._attachments(ids)
        # Rows older than the digest column get theirs computed here (new rows carry one, written once).
        return [StoredMessage(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], children.get(r[8], (r[0],)),
                              bytes(r[9]) if r[9] is not None else content_digest(r[3]), r[10], r[11],
                              tuple(files.get(r[0], ())))
                for r in (found[i] for i in ids if i in found)]

    def recent_prompts(self, limit: int = 100) -> list[str]:
        """Newest first, each text once; a very long prompt (a pasted file) is not worth recalling."""
        out: list[str] = []
        for (content,) in self.conn.execute(
            "SELECT content FROM messages WHERE role = 'user' AND length(content) <= 4000 ORDER BY id DESC LIMIT ?",
            (limit * 4,),
        ):
            if content not in out:
                out.append(content)
                if len(out) == limit:
                    break
        return out

    def tool_calls(self, cid: str) -> list[StoredToolCall]:
        """The tool calls of the conversation's answers (StoredToolCall.message_id says whose)."""
        return ToolLog(self.conn).of_conversation(self.resolve_id(cid))

    def similar_answer(self, message_id: int | None) -> tuple[int, str, int, float] | None:
        """(message id, conversation id, semantic entry, similarity) of an answer reused from a similar question:
        the given one, or the most recent."""
        where = "AND c.message_id = ?" if message_id is not None else ""
        row = self.conn.execute(
            "SELECT c.message_id, c.conversation_id, c.similar_entry, c.similarity FROM calls c "
            f"WHERE c.similarity IS NOT NULL AND c.cached = 1 AND c.message_id IS NOT NULL {where} "
            "ORDER BY c.id DESC LIMIT 1", (message_id,) if message_id is not None else ()).fetchone()
        return (int(row[0]), str(row[1]), int(row[2]), float(row[3])) if row else None

    # attachments -----------------------------------------------------------------
    def add_attachments(self, message_id: int, attachments: tuple[Attachment, ...]) -> None:
        """Each file's bytes once by content hash, then its place in the message."""
        self.conn.executemany(
            "INSERT OR IGNORE INTO attachment_blobs (digest, mime, size, width, height, data) VALUES (?,?,?,?,?,?)",
            [(a.digest, a.mime, a.size, a.width, a.height, a.data) for a in attachments])
        self.conn.executemany("INSERT INTO message_attachments (message_id, seq, name, digest) VALUES (?,?,?,?)",
                              [(message_id, i, a.name, a.digest) for i, a in enumerate(attachments)])

    def _attachments(self, ids: list[int]) -> dict[int, list[Attachment]]:
        rows = self.conn.execute(
            "SELECT a.message_id, a.name, b.mime, b.data, a.digest, b.width, b.height FROM message_attachments a "
            f"JOIN attachment_blobs b ON b.digest = a.digest WHERE a.message_id IN ({','.join('?' * len(ids))}) "
            "ORDER BY a.message_id, a.seq", ids).fetchall()
        found: dict[int, list[Attachment]] = {}
        for mid, *fields in rows:
            found.setdefault(mid, []).append(Attachment(*fields))
        return found

    def _drop_attachments(self, cid: str) -> None:
        if self.conn.execute("DELETE FROM message_attachments WHERE message_id IN "
                             "(SELECT id FROM messages WHERE conversation_id = ?)", (cid,)).rowcount:
            # Blobs are shared between messages: only those no message uses any more go.
            self.conn.execute("DELETE FROM attachment_blobs WHERE digest NOT IN "
                              "(SELECT digest FROM message_attachments)")

    # search and export -----------------------------------------------------------
    def search(self, words: str, limit: int = 50) -> list[SearchHit]:
        """Messages that contain every word (the last may be a prefix), newest first.

        Newest first lets FTS5 stop after `limit` matches instead of ranking every one: a word found in most of
        100,000 conversations costs what a rare one does.
        """
        rows = self.conn.execute(
            "WITH hits AS (SELECT rowid AS id, snippet(messages_fts, 0, '[', ']', '…', 12) AS snip "
            "FROM messages_fts WHERE messages_fts MATCH ? ORDER BY rowid DESC LIMIT ?) "
            "SELECT m.conversation_id, c.title, m.id, m.role, hits.snip, m.created_at "
            "FROM hits JOIN messages m ON m.id = hits.id JOIN conversations c ON c.id = m.conversation_id "
            "ORDER BY hits.id DESC",
            (fts_query(words), limit),
        ).fetchall()
        return [SearchHit(*r) for r in rows]

    def export(self, cid: str, fmt: str) -> str:
        conv = self.get_conversation(cid)
        msgs = self.messages(conv.id)
        tools: dict[int | None, list[StoredToolCall]] = {}
        for call in self.tool_calls(conv.id):
            tools.setdefault(call.message_id, []).append(call)
        if fmt == "json":
            exported = [{**_message_json(m),
                         **({"tool_calls": [_call_json(c) for c in tools[m.id]]} if m.id in tools else {})}
                        for m in msgs]
            return json.dumps({"conversation": asdict(conv), "messages": exported}, indent=2, ensure_ascii=False)
        if fmt not in ("md", "markdown"):
            raise UsageError(f"Unknown export format '{fmt}'; use md or json.")
        out = [f"# {conv.title}", "", f"*{time.strftime('%Y-%m-%d %H:%M', time.localtime(conv.created_at))}*", ""]
        if conv.system:
            out += [f"> System: {conv.system}", ""]
        for m in msgs:
            who = "You" if m.role == "user" else f"Assistant ({m.provider}:{m.model})" if m.provider else m.role.title()
            note = f" *({m.status})*" if m.status not in ("complete",) else ""
            out += [f"## {who}{note}", ""] + [line for a in m.attachments for line in _attachment_md(a)]
            out += [line for c in tools.get(m.id, []) for line in _call_md(c)] + [m.content, ""]
        return "\n".join(out)


def _call_json(call: StoredToolCall) -> dict[str, object]:
    data = asdict(call)
    data.pop("message_id")
    data["arguments"] = json.loads(call.arguments)
    return data


def _call_md(call: StoredToolCall) -> list[str]:
    """A tool call in the Markdown export: who allowed it, then its arguments and its result as code blocks."""
    who = "refused" if call.status == "refused" else f"{call.status}, {call.approved_by or 'not run'}"
    fence = "````" if "```" in call.result or "```" in call.arguments else "```"
    return [f"**Tool call** `{call.server}.{call.tool}` ({who}, {call.elapsed_ms:.0f} ms)", "",
            f"{fence}json", call.arguments, fence, "", f"{fence}text", call.result, fence, ""]


def _message_json(m: StoredMessage) -> dict[str, object]:
    """A message for the JSON export: each file with its text, or an image as base64, so nothing is lost."""
    out = {k: v for k, v in asdict(m).items() if k != "digest"}  # a key detail, not content
    out["attachments"] = [
        {"name": a.name, "mime": a.mime, "size": a.size, "digest": a.digest,
         **({"base64": a.base64(), "width": a.width, "height": a.height} if a.is_image else {"text": a.text})}
        for a in m.attachments]
    return out


def _attachment_md(a: Attachment) -> list[str]:
    if a.is_image:
        return [f"*Image: {a.name} ({a.width}×{a.height}, {a.size:,} bytes)*", ""]
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall(r"`+", a.text)), default=0))
    return [f"**{a.name}**", "", fence, a.text.rstrip("\n"), fence, ""]


def fts_query(words: str) -> str:
    """Quote each word so user text never becomes FTS5 syntax (a stray quote or AND is not an error)."""
    terms = [w.replace('"', '""') for w in words.split()]
    if not terms:
        raise UsageError("Search needs at least one word, e.g. `assistant history search paris`.")
    return " ".join(f'"{t}"*' if i == len(terms) - 1 else f'"{t}"' for i, t in enumerate(terms))
