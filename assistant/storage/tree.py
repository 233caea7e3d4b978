"""Conversations as trees of messages: the branch on screen, each message's alternatives, moving between branches.

Each message points at the one before it in its branch (`parent_id`); a conversation remembers the last message of
the branch on screen (`leaf_id`). An edited question or a regenerated answer is a sibling of the one it replaces.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping

# "After the last message of the branch on screen": the parent of an ordinary new message.
LEAF = -1

Links = Mapping[int, int | None]  # message id -> parent id, in id order


def links(conn: sqlite3.Connection, cid: str) -> dict[int, int | None]:
    return {int(i): p for i, p in conn.execute(
        "SELECT id, parent_id FROM messages WHERE conversation_id = ? ORDER BY id", (cid,))}


def leaf(conn: sqlite3.Connection, cid: str, tree: Links | None = None) -> int | None:
    """The last message of the branch on screen; the newest message when none is recorded (or it is gone)."""
    row = conn.execute("SELECT leaf_id FROM conversations WHERE id = ?", (cid,)).fetchone()
    tree = links(conn, cid) if tree is None else tree
    if row is not None and row[0] is not None and row[0] in tree:
        return int(row[0])
    return max(tree) if tree else None


def set_leaf(conn: sqlite3.Connection, cid: str, message_id: int) -> None:
    conn.execute("UPDATE conversations SET leaf_id = ? WHERE id = ?", (message_id, cid))


def branch(tree: Links, last: int | None) -> list[int]:
    """Ids from the first message down to `last`, following parents (a loop in damaged data ends the walk)."""
    out: list[int] = []
    seen: set[int] = set()
    node = last
    while node is not None and node in tree and node not in seen:
        seen.add(node)
        out.append(node)
        node = tree[node]
    out.reverse()
    return out


def children(tree: Links) -> dict[int | None, tuple[int, ...]]:
    """Each message's children (None: the first messages of the branches), oldest first: a message's alternatives
    are its parent's children."""
    out: dict[int | None, list[int]] = {}
    for i, p in tree.items():
        out.setdefault(p, []).append(i)
    return {p: tuple(ids) for p, ids in out.items()}


def newest_descendant(tree: Links, message_id: int) -> int:
    """Where a branch leads: from `message_id`, always the newest child, to the end."""
    children: dict[int, int] = {}
    for i, p in tree.items():  # id order: the last child seen is the newest
        if p is not None:
            children[p] = i
    node, seen = message_id, {message_id}
    while node in children and children[node] not in seen:
        node = children[node]
        seen.add(node)
    return node
