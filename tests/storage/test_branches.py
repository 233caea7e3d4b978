"""Conversations as trees: the migration on blank and older files, branches, alternatives, switching."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from assistant.core.errors import UsageError
from assistant.storage.db import open_database
from assistant.storage.history import History
from assistant.storage.migrations import MIGRATIONS, migrate


@pytest.fixture
def history(tmp_path: Path) -> History:
    return History(open_database(tmp_path / "h.db").conn)


def answer(history: History, cid: str, text: str, **parent: int) -> int:
    mid = history.start_answer(cid, "embedded", "smollm2", **parent)
    history.finish_answer(mid, "complete", text)
    return mid


def test_a_database_from_before_branches_keeps_its_conversations_in_order(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    before = [name for name, _ in MIGRATIONS[:MIGRATIONS.index(next(m for m in MIGRATIONS if m[0] == "m020_message_tree"))]]
    migrate(conn, upto=before[-1])
    conn.execute("INSERT INTO conversations (id, title, created_at, updated_at) VALUES ('c1', 'old', 1, 1)")
    conn.execute("INSERT INTO conversations (id, title, created_at, updated_at) VALUES ('c2', 'empty', 1, 1)")
    for role, text in [("user", "q1"), ("assistant", "a1"), ("user", "q2"), ("assistant", "a2")]:
        conn.execute("INSERT INTO messages (conversation_id, role, content, status, created_at) "
                     "VALUES ('c1', ?, ?, 'complete', 1)", (role, text))
    conn.close()
    history = History(open_database(path).conn)
    shown = history.messages("c1")
    assert [m.content for m in shown] == ["q1", "a1", "q2", "a2"]
    assert [m.parent_id for m in shown] == [None, shown[0].id, shown[1].id, shown[2].id]
    assert all(m.siblings == (m.id,) for m in shown)
    assert history.messages("c2") == []
    history.add_message("c1", "user", "q3")  # new messages continue the old line
    assert [m.content for m in history.messages("c1")][-2:] == ["a2", "q3"]


def test_an_edited_question_branches_and_the_old_branch_stays_reachable(history: History) -> None:
    cid = history.create_conversation("q1")
    q1 = history.add_message(cid, "user", "q1")
    a1 = answer(history, cid, "a1")
    q2 = history.add_message(cid, "user", "q2")
    answer(history, cid, "a2")
    edited = history.add_message(cid, "user", "q2, better", parent_id=a1)
    answer(history, cid, "a2 again")
    shown = history.messages(cid)
    assert [m.content for m in shown] == ["q1", "a1", "q2, better", "a2 again"]
    assert shown[2].siblings == (q2, edited) and shown[2].alternative == 2
    assert [m.content for m in history.ancestors(cid, a1)] == ["q1", "a1"]
    history.switch_branch(cid, q2)
    assert [m.content for m in history.messages(cid)] == ["q1", "a1", "q2", "a2"]
    history.switch_branch(cid, q1)  # already on screen: nothing moves
    assert [m.content for m in history.messages(cid)][-1] == "a2"
    # An edited first question is a second root.
    history.add_message(cid, "user", "q1, reworded", parent_id=None)
    assert [m.content for m in history.messages(cid)] == ["q1, reworded"]
    assert history.messages(cid)[0].siblings[0] == q1


def test_regenerated_answers_are_alternatives_of_one_another(history: History) -> None:
    cid = history.create_conversation("q")
    q = history.add_message(cid, "user", "q")
    first = answer(history, cid, "first")
    second = answer(history, cid, "second", parent_id=q)
    shown = history.messages(cid)
    assert [m.content for m in shown] == ["q", "second"] and shown[1].siblings == (first, second)
    history.switch_branch(cid, first)
    assert [m.content for m in history.messages(cid)] == ["q", "first"]


def test_switching_to_a_message_of_another_conversation_is_refused(history: History) -> None:
    one = history.create_conversation("a")
    mid = history.add_message(one, "user", "a")
    two = history.create_conversation("b")
    history.add_message(two, "user", "b")
    with pytest.raises(UsageError, match="not part of"):
        history.switch_branch(two, mid)
