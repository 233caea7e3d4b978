"""History: ids by prefix, FTS5 search that treats user text as words, exports, rename and delete."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.core.errors import UsageError
from assistant.storage.db import open_database
from assistant.storage.history import History


@pytest.fixture
def history(tmp_path: Path) -> History:
    return History(open_database(tmp_path / "h.db").conn)


def chat(history: History, question: str, answer: str) -> str:
    cid = history.create_conversation(question, "embedded:smollm2")
    history.add_message(cid, "user", question)
    mid = history.start_answer(cid, "embedded", "smollm2")
    history.append_chunk(mid, 0, answer)
    history.finish_answer(mid, "complete")
    return cid


def test_search_finds_words_and_prefixes(history: History) -> None:
    a = chat(history, "Capital of France?", "Paris is the capital.")
    chat(history, "Best pasta?", "Carbonara, of course.")
    assert {h.conversation_id for h in history.search("paris")} == {a}
    assert {h.conversation_id for h in history.search("capit")} == {a}  # the last word matches as a prefix
    hit = history.search("carbonara")[0]
    assert "[Carbonara]" in hit.snippet and hit.role == "assistant"


@pytest.mark.parametrize("query", ['"', "AND", "NEAR(", "col:x", "*", "a OR"])
def test_search_syntax_in_user_text_is_not_an_error(history: History, query: str) -> None:
    chat(history, "q", "a")
    history.search(query)


def test_empty_search_says_how(history: History) -> None:
    with pytest.raises(UsageError, match="at least one word"):
        history.search("  ")


def test_prefix_ids(history: History) -> None:
    cid = chat(history, "q", "a")
    assert history.resolve_id(cid[:5]) == cid
    with pytest.raises(UsageError, match="history list"):
        history.resolve_id("zzzz")


def test_export_markdown_and_json(history: History) -> None:
    cid = chat(history, "Capital of France?", "Paris.")
    md = history.export(cid, "md")
    assert md.startswith("# Capital of France?") and "## You" in md and "Paris." in md and "embedded:smollm2" in md
    data = json.loads(history.export(cid, "json"))
    assert [m["content"] for m in data["messages"]] == ["Capital of France?", "Paris."]
    with pytest.raises(UsageError, match="md or json"):
        history.export(cid, "pdf")


def test_rename_and_delete(history: History) -> None:
    cid = chat(history, "q", "a")
    history.rename(cid, "  New   name ")
    assert history.get_conversation(cid).title == "New name"
    history.delete_conversation(cid)
    assert history.list_conversations() == [] and history.search("q") == []
