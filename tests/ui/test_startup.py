"""Start-up: the first frame is complete from cheap sources; the engine and probes repaint only what changed."""

from __future__ import annotations

import gc
import os
import pty
import re
import select
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from textual.widgets import Input, OptionList

from assistant.compose import Setup, build_engine
from assistant.storage.listing import peek_recent_conversations as recent_conversations
from assistant.ui.app import make_app
from assistant.ui.state import load_state, save_state
from assistant.ui.widgets.footer import KeyBar
from tests.conftest import cli_env
from tests.helpers import ScriptedProvider, Usage, engine_setup, store_for
from tests.ui.conftest import SIZE, offline_providers, ready, settle


def sidebar_lines(app: Any) -> list[str]:
    options = app.chat.query_one("#history-list", OptionList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


def gate_engine(app: Any) -> threading.Event:
    """Hold the engine worker until released, so the test sees the frame painted before the engine is open."""
    gate, build = threading.Event(), app.engine_factory

    def gated(setup: Any) -> Any:
        gate.wait(10)
        return build(setup)

    app.engine_factory = gated
    return gate


def count_key_lookups(engine: Any) -> list[str]:
    asked: list[str] = []
    real = engine.keys.get
    engine.keys.get = lambda provider: asked.append(provider) or real(provider)
    return asked


async def test_first_frame_shows_history_and_last_known_status_before_the_engine_opens(build_app,
                                                                                       isolated_env):
    save_state(isolated_env / "data" / "state.json", local="ollama down · embedded up", keyring_keys="")
    app, engine = build_app()
    engine.history.create_conversation("Capitals of Europe")
    gate = gate_engine(app)
    asked = count_key_lookups(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.engine is None
        assert any(line.startswith("Capitals of Europe") for line in sidebar_lines(app))
        status = app.chat.status
        assert (status.local, status.providers) == ("ollama down · embedded up", "no keys")
        assert "engine" not in status.line()  # only a failed start is worth a word in the status bar
        gate.set()
        await ready(pilot)
        assert asked == []  # the last-known answer is on screen; the keyring waits until something needs it
        app.chat.query_one("#prompt").focus()
        await pilot.press("h")
        await settle(pilot)
        assert set(asked) == {"openai", "anthropic", "gemini"}  # typing a question warms what routing will need


async def test_engine_confirming_the_first_frame_rebuilds_nothing(build_app, monkeypatch, isolated_env):
    save_state(isolated_env / "data" / "state.json", local="ollama down · embedded up", keyring_keys="")
    app, engine = build_app()
    engine.history.create_conversation("Rust lifetimes")
    rebuilt: list[int] = []
    drawn: list[list[str]] = []
    real_set, real_render = OptionList.set_options, KeyBar.render

    def set_options(self: OptionList, options: Any) -> Any:
        rebuilt.append(len(list(options)))
        return real_set(self, options)

    def render(self: KeyBar) -> Any:
        line = real_render(self)
        drawn.append(self.descriptions())
        return line

    monkeypatch.setattr(OptionList, "set_options", set_options)
    monkeypatch.setattr(KeyBar, "render", render)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await settle(pilot)
        # One sidebar list (the first frame's; the engine's identical one is skipped).
        assert rebuilt == [1]
        assert drawn[-1][0] == "Send" and len(drawn[-1]) > 5
        draws = len(drawn)
        app.chat.refresh_bindings()
        app.chat.refresh_bindings()
        await settle(pilot)
        assert len(drawn) == draws  # same bindings: the keys are not drawn again
        app.chat.query_one("#history-search", Input).focus()
        await settle(pilot)
        assert len(drawn) == draws + 1 and "Send" not in drawn[-1]  # the prompt's keys left: a real change


async def test_first_run_looks_keys_up_and_the_keys_screen_keeps_them_current(build_app, memory_backend):
    app, _engine = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert app.chat.status.providers == "no keys"  # nothing was known: looked up once the engine opened
        assert load_state(app.paths.state_file)["keyring_keys"] == ""
        await pilot.press("f4")
        await settle(pilot)
        field = app.screen.query_one("#key-openai", Input)
        field.focus()
        field.value = "sk-test-secret-4321"
        await pilot.press("enter")
        await settle(pilot)
        assert app.chat.status.providers == "openai"
        assert load_state(app.paths.state_file)["keyring_keys"] == "openai"
    assert "secret" not in app.paths.state_file.read_text()


async def test_a_question_typed_before_the_engine_opens_goes_to_the_remembered_model(build_app, isolated_env):
    save_state(isolated_env / "data" / "state.json", model="openai:gpt-4o-mini")
    cloud = ScriptedProvider("openai", [["Hi", Usage(1, 1)]], local=False, model="gpt-4o-mini")
    app, _ = build_app([*offline_providers(), cloud], environ={"OPENAI_API_KEY": "sk-test-0000"})
    gate = gate_engine(app)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.chat.status.model == "openai:gpt-4o-mini"  # shown from the first frame
        prompt = app.chat.query_one("#prompt")
        prompt.load_text("hello early")
        prompt.focus()
        await pilot.press("enter")
        gate.set()
        await ready(pilot)
        await settle(pilot)
        assert [r.turns[-1].content for r in cloud.requests] == ["hello early"]


async def test_collection_paused_by_the_launcher_resumes_once_the_first_frame_is_out(build_app):
    app, _ = build_app()
    gc.disable()  # what cli/tui.py does before importing the app
    try:
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            assert gc.isenabled() and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()  # give this test process's objects back to the collector
        gc.enable()


def test_snapshot_of_a_missing_or_damaged_database(tmp_path):
    assert recent_conversations(tmp_path / "none.db") == []
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(b"not a database at all" * 100)
    assert recent_conversations(damaged) is None


def write_config(home: Path, text: str) -> None:
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "config.toml").write_text(text, encoding="utf-8")


async def test_the_launcher_reads_config_toml_only_after_the_first_frame(isolated_env):
    write_config(isolated_env, "[ui]\nreopen_last = true\n")
    providers = offline_providers()
    scripted = engine_setup(isolated_env, providers)
    earlier = build_engine(scripted, keys=store_for()).history.create_conversation("Tides and the moon")
    read: list[Setup] = []

    def factory(setup: Setup) -> Any:  # the settings as read from config.toml, over scripted providers
        read.append(setup)
        return build_engine(Setup(setup.paths, setup.settings, scripted.registry), keys=store_for())

    app = make_app(engine_factory=factory)  # what the launcher does: no setup
    gate = gate_engine(app)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert read == [] and app.engine is None  # the first frame is out before the engine is built
        assert any(line.startswith("Tides and the moon") for line in sidebar_lines(app))
        gate.set()
        await ready(pilot)
        assert read[0].settings.ui.reopen_last is True
        assert app.chat.conversation_id == earlier  # the setting took effect
        assert load_state(app.paths.state_file)["key_env"].split(";")[0] == "openai=OPENAI_API_KEY"


async def test_a_bad_config_toml_ends_the_app_with_its_reason(isolated_env):
    write_config(isolated_env, "[general]\nshout = true\n")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(300):
            await pilot.pause(0.01)
            if app.return_code is not None:
                break
    assert app.return_code == 1
    assert app.startup_error is not None and "general.shout" in app.startup_error.message


def test_a_bad_config_toml_is_one_line_from_the_chat_app_in_a_terminal(isolated_env):
    """The real launch in a pseudo-terminal: the app starts, then says why it cannot run, as `assistant ask` does."""
    write_config(isolated_env, "[general]\nshout = true\n")
    controller, terminal = pty.openpty()
    env = cli_env(isolated_env, TERM="xterm-256color", COLUMNS="100", LINES="30")
    proc = subprocess.Popen([sys.executable, "-m", "assistant"], stdin=terminal, stdout=terminal, stderr=terminal,
                            env=env, cwd=Path(__file__).resolve().parents[2], start_new_session=True)
    os.close(terminal)
    output = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if select.select([controller], [], [], 0.1)[0]:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            output += chunk
        elif proc.poll() is not None:
            break
    os.close(controller)
    assert proc.wait(10) == 1
    # What stays in the terminal once the app has left the alternate screen, its drawing and modes removed.
    after = output.decode("utf-8", "replace").rpartition("\x1b[?1049l")[2]
    text = re.sub(r"\x1b\[[^a-zA-Z]*[a-zA-Z]", "", after)
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("assistant:")
    assert "general.shout" in lines[0] and "config.toml" in lines[0]
    assert "Traceback" not in text


async def test_keys_typed_before_the_engine_opens_are_kept(build_app):
    app, _ = build_app()
    gate = gate_engine(app)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press(*"what is")
        assert app.engine is None
        gate.set()
        await ready(pilot)
        await pilot.press(*" rust")
        assert app.chat.query_one("#prompt").text == "what is rust"


async def test_a_second_question_before_the_engine_opens_waits_in_the_prompt(build_app):
    app, engine = build_app(offline_providers(["First answer.", Usage(1, 1)]))
    provider = engine.registry.get("embedded")
    gate = gate_engine(app)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press(*"first", "enter")
        await pilot.press(*"second", "enter")
        assert app.chat.query_one("#prompt").text == "second"  # not sent, not lost
        gate.set()
        await ready(pilot)
        await settle(pilot)
        assert [r.turns[-1].content for r in provider.requests] == ["first"]
        assert app.chat.log_view.answers()[0].text == "First answer."
        assert app.chat.query_one("#prompt").text == "second"


async def test_a_question_waiting_for_an_engine_that_cannot_open_goes_back_to_the_prompt(build_app):
    from assistant.core.errors import DatabaseLocked

    app, _ = build_app()
    gate = threading.Event()

    def broken(setup: Any) -> Any:
        gate.wait(10)
        raise DatabaseLocked("The database is locked by another program; close it and try again.")

    app.engine_factory = broken
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press(*"keep me", "enter")
        gate.set()
        for _ in range(200):
            await pilot.pause(0.01)
            if app.chat.status.engine == "unavailable":
                break
        await pilot.pause()
        assert app.chat.query_one("#prompt").text == "keep me"
