"""Every test gets its own ASSISTANT_HOME, no API keys, no real keyring, and no network beyond loopback."""

from __future__ import annotations

import importlib.metadata
import ipaddress
import os
import re
import shutil
import socket
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.bench.redis_server import RedisServer

ROOT = Path(__file__).resolve().parent.parent
# Real recordings copied from the team's shared fixtures (see tests/fixtures/README.md for their sources).
FIXTURES = ROOT / "tests" / "fixtures"
CLOSED_PORT_URL = "http://127.0.0.1:9"
# The team cache tests start a redis-server of their own: a machine without one skips them and says why.
needs_redis = pytest.mark.skipif(shutil.which("redis-server") is None,
                                 reason="redis-server is not installed (apt install redis-server)")  # discard port: nothing listens, connections are refused at once

_SCRUB = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY", "OPENAI_BASE_URL",
          "ANTHROPIC_BASE_URL", "GEMINI_BASE_URL", "ASSISTANT_DEBUG", "ASSISTANT_LOCAL_ONLY", "ASSISTANT_TEAM_SECRET",
          "ASSISTANT_TEAM_PASSWORD")


def pytest_configure(config: pytest.Config) -> None:
    """Run by a Python without the project's packages (say a global `pytest`), the suite would fail to collect
    dozens of modules with import errors: one line instead, saying which Python and the README's command."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = [re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0] for r in
              project["dependencies"] + project["optional-dependencies"]["test"]]
    missing = [name for name in wanted if not _installed(name)]
    if missing:
        readme = (ROOT / "README.md").read_text(encoding="utf-8")
        command = re.findall(r"^    \$ (.+)$", readme, re.M)[1]  # the second set-up command: the tests
        pytest.exit(f"{sys.executable} lacks {', '.join(missing)}; run the suite as the README does: {command}",
                    returncode=4)


def _installed(distribution: str) -> bool:
    try:
        importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "home"
    monkeypatch.setenv("ASSISTANT_HOME", str(home))
    for name in _SCRUB:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OLLAMA_HOST", CLOSED_PORT_URL)
    # No test reaches the user's keyring by accident; keyring tests opt in to a real or in-memory backend.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    yield home


def _is_loopback(address: object) -> bool:
    if not isinstance(address, tuple) or not address:
        return True  # unix sockets (dbus, the keyring) are local
    host = str(address[0])
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def guard(sock: socket.socket, address: object) -> object:
        if not _is_loopback(address):
            raise OSError(f"tests must not touch the network (tried {address!r})")
        return real_connect(sock, address)

    def guard_ex(sock: socket.socket, address: object) -> object:
        if not _is_loopback(address):
            raise OSError(f"tests must not touch the network (tried {address!r})")
        return real_connect_ex(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guard)
    monkeypatch.setattr(socket.socket, "connect_ex", guard_ex)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of the test's own on a free loopback port, in a scratch folder; stopped afterwards."""
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.stop()


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


def cli_env(home: Path, **extra: str) -> dict[str, str]:
    """Environment for running `python -m assistant` in a subprocess, isolated like in-process tests."""
    env = {k: v for k, v in os.environ.items() if k not in _SCRUB}
    env.update({"ASSISTANT_HOME": str(home), "OLLAMA_HOST": CLOSED_PORT_URL, "PYTHONPATH": str(ROOT),
                "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"})
    for provider in ("OPENAI", "ANTHROPIC", "GEMINI"):
        env[f"{provider}_BASE_URL"] = CLOSED_PORT_URL
    env.update(extra)
    return env


PYTHON = sys.executable
