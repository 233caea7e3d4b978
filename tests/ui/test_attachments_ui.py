"""Attaching files in the chat app: ctrl+f (or the palette) with path completion, chips that can be taken off
before sending, files that cannot be sent refused in one line, and what was sent shown under the question."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from assistant.ui.screens.attach import AttachScreen, complete_path
from assistant.ui.widgets.attachment_chips import AttachmentChips
from tests.context.images import PNG_166x282
from tests.helpers import ScriptedProvider, Usage
from tests.ui.conftest import SIZE, ask, offline_providers, ready, settle


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "notes.txt").write_text("the meeting moved to 3pm\n", encoding="utf-8")
    (tmp_path / "notebook").mkdir()
    (tmp_path / "photo.png").write_bytes(PNG_166x282)
    (tmp_path / "tool.bin").write_bytes(b"\x7fELF\x00\x00")
    monkeypatch.chdir(tmp_path)  # the app attaches paths relative to where it was started
    return tmp_path


def test_paths_complete_from_the_start_folder(files: Path) -> None:
    assert complete_path("no", files) == "notebook/"  # the first match, a folder, ends in /
    assert complete_path("notes", files) == "notes.txt"
    assert complete_path("ph", files) == "photo.png" and complete_path("zz", files) is None
    assert complete_path(f"{files}/to", files) == f"{files}/tool.bin"


async def attach(pilot: Any, path: str) -> None:
    await pilot.press("ctrl+f")
    await settle(pilot)
    assert isinstance(pilot.app.screen, AttachScreen)
    await pilot.press(*path, "enter")
    await settle(pilot)


def chips(app: Any) -> list[str]:
    found = app.chat.query(AttachmentChips)
    return [str(b.label) for b in found.first().query("Button")] if found and found.first().display else []


async def test_attached_files_go_with_the_next_question_and_chips_can_be_taken_off(build_app, files: Path):
    providers = offline_providers(["Noted.", Usage(30, 2)], ["Again.", Usage(30, 2)])
    app, engine = build_app(providers)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("ctrl+f")
        await settle(pilot)
        await pilot.press(*"note", "tab")  # Tab takes the completion
        assert app.screen.query_one("#path").value == "notebook/"
        await pilot.press("escape")
        await attach(pilot, "notes.txt")
        await attach(pilot, "photo.png")
        assert chips(app) == ["📎 notes.txt · 25 bytes ✕", "🖼 photo.png · 166×282 ✕"]
        await pilot.click(".chip-1")  # the image is taken off again
        await settle(pilot)
        assert chips(app) == ["📎 notes.txt · 25 bytes ✕"]
        await ask(pilot, "when is the meeting?")
        embedded: ScriptedProvider = providers[1]
        sent = embedded.requests[-1].messages[-1]
        assert [a.name for a in sent.attachments] == ["notes.txt"]
        assert chips(app) == []  # sent once: the next question carries nothing
        user = [str(s.render()) for s in app.chat.log_view.query(".user")]
        assert user[-1] == "when is the meeting?\n📎 notes.txt"
        await ask(pilot, "and who comes?")
        assert embedded.requests[-1].messages[-1].attachments == ()
        stored = engine.queries.messages(app.chat.conversation_id)
        assert [a.name for a in stored[0].attachments] == ["notes.txt"]


async def test_a_file_that_cannot_be_sent_is_refused_in_one_line(build_app, files: Path):
    app, _ = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await attach(pilot, "tool.bin")
        await settle(pilot)
        assert chips(app) == []
        said = [str(n.message) for n in app._notifications]
        assert any("'tool.bin' is not a text file or an image (PNG, JPEG, GIF or WebP)" in s for s in said)
        assert all("\n" not in s for s in said)


async def test_attach_is_in_the_command_palette(build_app, files: Path):
    app, _ = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Attach" in titles and "Models" in titles
