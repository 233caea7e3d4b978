"""Similar questions from the command line: `ask --semantic`, `ask --messages`, `cache stats | forget | clear`."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from assistant.core.types import Usage
from assistant.main import main
from tests.helpers import ScriptedProvider, serve_with

ASKED = "How do I reverse a list in Python?"
REWORDED = "how do i reverse a list in python"


@pytest.fixture
def ollama(monkeypatch: pytest.MonkeyPatch, isolated_env: Path) -> ScriptedProvider:
    provider = ScriptedProvider("ollama", [["Use reversed() or [::-1].", Usage(12, 8)], ["A fresh answer.", Usage(9, 3)]],
                                model="llama3.2:latest")
    serve_with(monkeypatch, [provider])
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    return provider


def ask(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main(["ask", "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def test_ask_serves_a_similar_question_only_when_asked_to(ollama: ScriptedProvider,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    first = ask(capsys, ASKED)
    assert first["cache"] is None and "similarity" not in first
    suggest_only = ask(capsys, REWORDED)  # the default, "suggest", is for the chat app: ask asks the model
    assert suggest_only["cache"] is None and len(ollama.requests) == 2
    served = ask(capsys, "--semantic", "How can I reverse a list in Python?")
    answers = {ASKED: "Use reversed() or [::-1].", REWORDED: "A fresh answer."}  # either earlier question may be nearest
    assert (served["cached"], served["cache"]) == (True, "semantic")
    assert served["text"] == answers[served["similar_prompt"]]
    assert 0.7 < served["similarity"] <= 1 and served["cost_usd"] == 0 and len(ollama.requests) == 2
    assert main(["ask", "--semantic", "How could I reverse a list in Python?"]) == 0
    out = capsys.readouterr()
    assert out.out.strip() in answers.values()
    assert "similar question from" in out.err and "wrong? assistant cache forget" in out.err
    assert main(["ask", "--no-cache", "--semantic", "--json", "How could I reverse a list in Python?"]) == 0
    assert json.loads(capsys.readouterr().out)["cache"] is None  # --no-cache bypasses every tier


def test_stats_forget_and_clear(ollama: ScriptedProvider, capsys: pytest.CaptureFixture[str]) -> None:
    ask(capsys, ASKED)
    served = ask(capsys, "--semantic", REWORDED)
    assert served["cache"] == "semantic"
    assert main(["cache", "stats", "--json"]) == 0
    similar = json.loads(capsys.readouterr().out)["semantic"]
    assert (similar["mode"], similar["entries"], similar["hits"]) == ("suggest", 1, 1)
    assert similar["lookups_by_embedder"] == {"wordllama:l2_supercat-256": 1}
    assert main(["cache", "stats"]) == 0
    text = capsys.readouterr().out
    assert "similar    suggest: 1 questions; 1 answers reused" in text and "wordllama:l2_supercat-256" in text

    assert main(["cache", "forget"]) == 0  # the latest reused answer
    assert f"Answer {served['message_id']}" in capsys.readouterr().out
    again = ask(capsys, "--semantic", REWORDED)
    assert again["cache"] is None and again["text"] == "A fresh answer."  # that pair never matches again
    assert main(["cache", "forget", str(again["message_id"])]) != 0
    assert "was not reused from a similar question" in capsys.readouterr().err

    assert main(["cache", "clear"]) == 0
    assert capsys.readouterr().out.strip() == "Removed 2 cached answers and 2 similar-question entries."
    assert main(["cache", "stats", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["semantic"]["entries"] == 0


def test_messages_sends_a_whole_conversation(ollama: ScriptedProvider, capsys: pytest.CaptureFixture[str],
                                             tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chat = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "I use Python 3.12."},
            {"role": "assistant", "content": "Noted."}, {"role": "user", "content": ASKED}]
    path = tmp_path / "chat.json"
    path.write_text(json.dumps(chat), encoding="utf-8")
    answer = ask(capsys, "--messages", str(path))
    sent = ollama.requests[-1]
    assert [(m.role, m.content) for m in sent.messages] == [(m["role"], m["content"]) for m in chat]
    assert answer["text"] == "Use reversed() or [::-1]."
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(chat)))
    assert ask(capsys, "--messages", "-")["cache"] == "exact"  # the same conversation from stdin: the same request
    assert main(["history", "show", answer["conversation_id"]]) == 0
    shown = capsys.readouterr().out
    assert "I use Python 3.12." in shown and "Noted." in shown and "system: Be brief." in shown


@pytest.mark.parametrize(("given", "says"), [
    ("not json", "needs JSON"),
    ('[{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]', "must end with a non-empty user"),
    ('[{"role": "tool", "content": "x"}]', "JSON list of"),
    ("[]", "JSON list of"),
])
def test_bad_messages_say_how_to_fix_them(ollama: ScriptedProvider, tmp_path: Path, given: str, says: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "chat.json"
    path.write_text(given, encoding="utf-8")
    for args, message in ((["--messages", str(path)], says), (["--messages", str(path), "and a prompt"], "leave out"),
                          (["--messages", str(tmp_path / "missing.json")], "Cannot read")):
        assert main(["ask", *args]) != 0
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert ollama.requests == []
