"""A real MCP test server (tests/tools/mcp_server.py, the official SDK over stdio) and hubs configured around it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.core.config import McpSettings, settings_from_mapping
from assistant.tools import ToolHub

SERVER = str(Path(__file__).with_name("mcp_server.py"))


def stdio_server(mode: str = "serve", log: Path | None = None, pids: Path | None = None, **extra: Any) -> dict[str, Any]:
    """A `[mcp.servers.NAME]` table that starts the test server in `mode`."""
    table: dict[str, Any] = {"command": sys.executable, "args": [SERVER, "--mode", mode], **extra}
    env = {"MCP_TEST_LOG": str(log)} if log else {}
    table["env"] = env | ({"MCP_TEST_PIDS": str(pids)} if pids else {})
    return table


def alive(pids: Path) -> list[int]:
    """The servers that wrote their pid to `pids` and are still running (a stopped child is reaped by the SDK)."""
    out = []
    for pid in map(int, pids.read_text().split()):
        try:
            os.kill(pid, 0)
            out.append(pid)
        except ProcessLookupError:
            pass
    return out


def settings(servers: dict[str, dict[str, Any]], **limits: Any) -> McpSettings:
    return settings_from_mapping({"mcp": {"start_timeout": 20, **limits, "servers": servers}}).mcp


def sleeps(log: Path) -> list[dict[str, Any]]:
    """What the server recorded about each `sleep` call: its own start and end times."""
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()] if log.exists() else []


@pytest.fixture
def sleep_log(tmp_path: Path) -> Path:
    return tmp_path / "sleeps.jsonl"


@pytest.fixture
async def hub(sleep_log: Path) -> AsyncIterator[ToolHub]:
    """One started test server named `t`, generous limits (tests that need tight ones make their own)."""
    async with ToolHub(settings({"t": stdio_server(log=sleep_log)}, call_timeout=30)) as started:
        yield started


@pytest.fixture
def http_server() -> Iterator[str]:
    """The test server over streamable HTTP on a free loopback port; yields its URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, SERVER, "--mode", "http", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(400):  # until it listens (bounded; nothing is timed)
            try:
                socket.create_connection(("127.0.0.1", port), 0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        server.terminate()
        server.wait(10)
