"""The team cache in the chat app: its state in the status bar through an outage, team hits named, private chats."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import Checkbox, Static

from assistant.bench.redis_server import RedisServer
from tests.conftest import needs_redis
from tests.helpers import settings
from tests.ui.conftest import SIZE, ask, offline_providers, ready, settle

pytestmark = needs_redis

SECRET = {"ASSISTANT_TEAM_SECRET": "a long random team secret"}


def team_cfg(server: RedisServer, **extra: Any) -> Any:
    return settings(team={"cache_url": server.url, "share": True, "read_timeout_ms": 2000,
                          "connect_timeout_ms": 2000, **extra})


async def until(pilot: Any, condition: Any, rounds: int = 400) -> bool:
    """Liveness only: a background trial has to happen; nothing is asserted about how long it took."""
    for _ in range(rounds):
        if condition():
            return True
        await pilot.pause(0.05)
    return condition()


def team_text(app: Any) -> str:
    return app.chat.status.team


async def test_the_status_bar_follows_the_team_cache_down_and_back(build_app, redis_server: RedisServer) -> None:
    app, _engine = build_app(offline_providers(*[["Answer.", ] for _ in range(5)]), SECRET,
                            team_cfg(redis_server, cooldown_s=0.3))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert await until(pilot, lambda: team_text(app) == "connected")
        assert "│ team connected │" in app.chat.status.line()
        redis_server.kill()
        assert await until(pilot, lambda: team_text(app).startswith("down · retry "))  # noticed while idle
        await ask(pilot, "Still there?")
        answer = app.chat.log_view.answers()[-1]
        assert answer.text == "Answer." and not answer.query_one(".answer-figures").has_class("error")
        redis_server.start()
        assert await until(pilot, lambda: team_text(app) == "connected")


async def test_a_team_hit_is_named_live_and_in_history(build_app, redis_server: RedisServer, tmp_path: Path) -> None:
    first, _ = build_app(offline_providers(["Paris."]), SECRET, team_cfg(redis_server), tmp_path / "alice")
    async with first.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await ask(pilot, "Capital of France?")
        await first.action_quit()
    second, _engine = build_app(offline_providers(["never asked"]), SECRET, team_cfg(redis_server), tmp_path / "bob")
    async with second.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await ask(pilot, "Capital of France?")
        view = second.chat.log_view.answers()[-1]
        figures = str(view.query_one(".answer-figures", Static).render())
        assert view.text == "Paris." and "from the team cache" in figures
        second.chat.open_conversation(second.chat.conversation_id)
        await settle(pilot)
        header = str(second.chat.log_view.answers()[-1].query_one(".answer-header", Static).render())
        assert header.endswith("· from the team cache")


async def test_a_private_conversation_stays_out_of_the_team_cache(build_app, redis_server: RedisServer) -> None:
    app, engine = build_app(offline_providers(["Mine."], ["Also mine."]), SECRET, team_cfg(redis_server))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert await until(pilot, lambda: team_text(app) == "connected")
        await pilot.press("f3")
        await settle(pilot)
        app.screen.query_one("#private", Checkbox).value = True
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert team_text(app) == "off for this conversation"
        await ask(pilot, "A private question")
        await ask(pilot, "And a follow-up")
        status = engine.team_status()
        assert (status.hits, status.misses, status.skipped) == (0, 0, 0)
        cid = app.chat.conversation_id
        assert engine.queries.conversation(cid).private
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert team_text(app) == "connected" and not app.chat.private
        await app.action_quit()
    import redis

    assert redis.Redis.from_url(redis_server.url).dbsize() == 0


async def test_the_keys_screen_lists_the_team_secrets(build_app) -> None:
    app, _ = build_app(environ=SECRET)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("f4")
        await settle(pilot)
        label = str(app.screen.query_one("#row-team").query_one(".key-name", Static).render())
        assert "Team cache secret" in label and "ASSISTANT_TEAM_SECRET" in label
        status = str(app.screen.query_one("#status-team", Static).render())
        assert status == "set · from environment (ASSISTANT_TEAM_SECRET) · ends in …cret"
        assert str(app.screen.query_one("#status-team-password", Static).render()) == "no key set"
