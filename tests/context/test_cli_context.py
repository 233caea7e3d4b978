"""`ask -f` and piped input through the real command, with scripted models: files labelled and kept, stdin first."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from assistant.main import main
from tests.context.images import PNG_166x282
from tests.helpers import ScriptedProvider, Usage, serve_with


def test_files_and_piped_text_go_with_the_question_and_stay_in_history(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    embedded = ScriptedProvider("embedded", [["Noted.", Usage(40, 2)]], model="smollm2")
    serve_with(monkeypatch, [ScriptedProvider("ollama", [["unused"]], available=False), embedded])
    notes = tmp_path / "notes.txt"
    notes.write_text("buy milk\n", encoding="utf-8")
    monkeypatch.setattr("sys.stdin", io.StringIO("diff --git a/x b/x\n"))
    assert main(["ask", "-f", str(notes), "write the commit message"]) == 0
    sent = embedded.requests[-1].messages[-1]
    assert sent.content == "diff --git a/x b/x\n\nwrite the commit message"  # piped text first, then the question
    assert sent.text.startswith(f'<file name="{notes}">\nbuy milk\n</file>\n\ndiff --git')
    capsys.readouterr()
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["history", "list"]) == 0
    cid = capsys.readouterr().out.split()[0]
    assert main(["history", "show", cid]) == 0
    assert f"[attached: {notes}, text/plain, 9 bytes]" in capsys.readouterr().out


def test_an_image_for_a_model_that_cannot_read_it_is_refused_before_sending(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    embedded = ScriptedProvider("embedded", [["unused"]], model="smollm2")
    serve_with(monkeypatch, [ScriptedProvider("ollama", [["unused"]], available=False), embedded])
    photo = tmp_path / "photo.png"
    photo.write_bytes(PNG_166x282)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["ask", "-m", "embedded:smollm2", "-f", str(photo), "what is this?"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["assistant: The request has images and embedded:smollm2 cannot read them; no model set up here "
                   "can: pull a vision model (`assistant models pull llava`) or add an API key for a cloud provider "
                   "(`assistant keys set`)."]
    assert embedded.requests == []
