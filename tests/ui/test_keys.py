"""Keys screen: set and delete a key in a test keyring, last 4 only, and guidance when no keyring exists."""

from __future__ import annotations

import keyring
from textual.widgets import Input, Static

from tests.ui.conftest import SIZE, ready, settle


def status_text(app, provider: str) -> str:
    return str(app.screen.query_one(f"#status-{provider}", Static).render())


async def test_set_and_delete_a_key(build_app, memory_backend):
    app, _engine = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("f4")
        await settle(pilot)
        assert status_text(app, "openai") == "no key set"
        assert not app.screen.query_one("#keyring-guidance").display
        field = app.screen.query_one("#key-openai", Input)
        assert field.password
        field.focus()
        field.value = "sk-test-secret-9876"
        await pilot.press("enter")
        await settle(pilot)
        assert status_text(app, "openai") == "set · from keyring · ends in …9876"
        assert "secret" not in status_text(app, "openai")
        assert keyring.get_password("assistant", "openai") == "sk-test-secret-9876"
        await pilot.click("#delete-openai")
        await settle(pilot)
        assert status_text(app, "openai") == "no key set"
        assert keyring.get_password("assistant", "openai") is None


async def test_environment_key_shows_its_source(build_app, memory_backend):
    app, _ = build_app(environ={"ANTHROPIC_API_KEY": "ak-env-1234"})
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("f4")
        await settle(pilot)
        assert status_text(app, "anthropic") == "set · from environment (ANTHROPIC_API_KEY) · ends in …1234"


async def test_no_keyring_backend_gives_guidance(build_app):
    app, _ = build_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ready(pilot)
        await pilot.press("f4")
        await settle(pilot)
        guidance = app.screen.query_one("#keyring-guidance", Static)
        assert guidance.display and "No OS keyring is available" in str(guidance.render())
        field = app.screen.query_one("#key-gemini", Input)
        field.focus()
        field.value = "g-key-0000"
        await pilot.press("enter")
        await settle(pilot)
        assert any("No OS keyring" in str(n.message) for n in app._notifications)
        assert app.is_running
