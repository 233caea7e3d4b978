"""Attachments in history: the migration on blank and older files, stored once by hash, read back, exported, deleted."""

from __future__ import annotations

import base64
import json
import sqlite3
from pathlib import Path

from assistant.core.config import AttachmentSettings
from assistant.engine.attachments import from_bytes
from assistant.storage.db import open_database
from assistant.storage.history import History
from assistant.storage.migrations import MIGRATIONS, migrate
from tests.context.images import PNG_166x282

LIMITS = AttachmentSettings()
NAMES = [name for name, _ in MIGRATIONS]


def test_the_attachment_migration_runs_on_a_blank_file(tmp_path: Path) -> None:
    conn = open_database(tmp_path / "a.db").conn
    assert "m025_message_attachments" in NAMES
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"attachment_blobs", "message_attachments"} <= tables


def test_an_older_database_gains_attachments_and_keeps_its_messages(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, upto=NAMES[NAMES.index("m025_message_attachments") - 1])  # everything before the attachments
    conn.execute("INSERT INTO conversations (id, title, created_at, updated_at) VALUES ('c1', 'old', 1, 1)")
    conn.execute("INSERT INTO messages (conversation_id, role, content, status, created_at) "
                 "VALUES ('c1', 'user', 'old words', 'complete', 1)")
    conn.close()
    history = History(open_database(path).conn)
    [old] = history.messages("c1")
    assert old.content == "old words" and old.attachments == ()
    history.add_attachments(old.id, (from_bytes("notes.txt", b"added later", LIMITS),))
    assert [a.name for a in history.messages("c1")[0].attachments] == ["notes.txt"]


def test_files_are_stored_once_read_back_in_order_and_freed_with_their_last_message(tmp_path: Path) -> None:
    history = History(open_database(tmp_path / "h.db").conn)
    text = from_bytes("src/app.py", b"print('hi')\n", LIMITS)
    image = from_bytes("photo.png", PNG_166x282, LIMITS)
    first = history.create_conversation("one")
    second = history.create_conversation("two")
    for cid in (first, second):
        mid = history.add_message(cid, "user", "look")
        history.add_attachments(mid, (text, image))
    conn = history.conn
    assert conn.execute("SELECT count(*) FROM attachment_blobs").fetchone()[0] == 2  # shared, not copied
    [message] = history.messages(first)
    assert [(a.name, a.mime, a.width, a.height) for a in message.attachments] == [
        ("src/app.py", "text/plain", 0, 0), ("photo.png", "image/png", 166, 282)]
    assert message.attachments[1].data == PNG_166x282 and message.attachments[1].digest == image.digest
    history.delete_conversation(first)
    assert conn.execute("SELECT count(*) FROM attachment_blobs").fetchone()[0] == 2  # still used by the other
    history.delete_conversation(second)
    assert conn.execute("SELECT count(*) FROM attachment_blobs").fetchone()[0] == 0


def test_exports_carry_every_file(tmp_path: Path) -> None:
    history = History(open_database(tmp_path / "h.db").conn)
    cid = history.create_conversation("review")
    code = from_bytes("fence.md", b"```python\nx = 1\n```\n", LIMITS)
    mid = history.add_message(cid, "user", "review these")
    history.add_attachments(mid, (code, from_bytes("photo.png", PNG_166x282, LIMITS)))
    markdown = history.export(cid, "md")
    assert "**fence.md**\n\n````\n```python\nx = 1\n```\n````" in markdown  # a longer fence than the file's own
    assert "*Image: photo.png (166×282," in markdown
    data = json.loads(history.export(cid, "json"))
    text, picture = data["messages"][0]["attachments"]
    assert text["text"] == "```python\nx = 1\n```\n" and text["name"] == "fence.md"
    assert base64.b64decode(picture["base64"]) == PNG_166x282 and picture["mime"] == "image/png"
