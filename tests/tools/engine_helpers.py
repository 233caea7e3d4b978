"""An engine whose cloud and Ollama providers talk to loopback fakes and whose MCP server is the real test server."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from assistant.core.events import Choice, Event, ToolCallRequested
from assistant.core.types import ChatRequest, ToolUse
from assistant.engine.engine import Engine
from tests.fakes.cloud import KEY
from tests.fakes.server import Reply
from tests.helpers import real_engine, settings
from tests.tools.conftest import stdio_server

KEYS = {"OPENAI_API_KEY": KEY, "ANTHROPIC_API_KEY": KEY, "GEMINI_API_KEY": KEY}


def sse(chunks: list[bytes]) -> Reply:
    return Reply(200, chunks, content_type="text/event-stream")


def ndjson(chunks: list[bytes]) -> Reply:
    return Reply(200, chunks, content_type="application/x-ndjson")


def tool_engine(home: Path, base_urls: Mapping[str, str], *, server: dict[str, Any] | None = None,
                mcp: Mapping[str, Any] | None = None, servers: bool = True, **sections: dict[str, Any]) -> Engine:
    """The real providers (each cloud one keyed and pointed at its fake; Ollama at `base_urls["ollama"]` or a
    closed port) and one MCP server named `t` (the test server unless `server` is given; none without `servers`)."""
    config: dict[str, Any] = {name: {"base_url": url} for name, url in base_urls.items() if name != "ollama"}
    config["ollama"] = {"host": base_urls.get("ollama", "http://127.0.0.1:9")}
    config["mcp"] = {"start_timeout": 20, "call_timeout": 30, **(mcp or {}),
                     "servers": {"t": server or stdio_server()} if servers else {}}
    config.update(sections)
    return real_engine(home, settings(**config), KEYS)


def ask(engine: Engine, prompt: str, model: str | None, *, allowed: tuple[str, ...] = (), ask_user: bool = False,
        enabled: bool = True, **options: Any) -> ChatRequest:
    return engine.new_request(prompt, model=model, tools=ToolUse(enabled, allowed, ask_user), **options)


async def converse(engine: Engine, request: ChatRequest, choices: Mapping[str, Choice] | None = None) -> list[Event]:
    """Every event of one answer; each ToolCallRequested is answered from `choices` (by tool name) as a user would."""
    events: list[Event] = []
    async for event in engine.chat(request):
        events.append(event)
        if isinstance(event, ToolCallRequested):
            event.reply.answer((choices or {}).get(event.call.tool, "refuse"))
    return events
