"""Settings for MCP servers (`[mcp]` and `[mcp.servers.NAME]` in config.toml), parsed from a plain dict."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from assistant.core.errors import ConfigError
from assistant.tools.values import Transport

_SERVER_NAME = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


def _f(default: Any, doc: str) -> Any:
    if isinstance(default, dict):
        return field(default_factory=dict, metadata={"doc": doc})
    return field(default=default, metadata={"doc": doc})


@dataclass(frozen=True)
class McpServerSettings:
    """One MCP server: a program started over stdio (`command`), or a streamable-HTTP endpoint (`url`)."""

    command: str = _f("", "Program that starts a stdio MCP server, e.g. \"npx\" or \"uvx\"; leave empty when `url` is set.")
    args: tuple[str, ...] = _f((), "Arguments for `command`, e.g. [\"-y\", \"@modelcontextprotocol/server-filesystem\", \"/tmp\"].")
    env: Mapping[str, str] = _f({}, "Environment variables for `command` (PATH, HOME and USER are passed on anyway).")
    url: str = _f("", "Streamable-HTTP endpoint of a running MCP server, e.g. \"http://127.0.0.1:8000/mcp\".")
    trusted_tools: tuple[str, ...] = _f((), "Tools of this server that run without asking (\"*\" for all of them).")

    @property
    def transport(self) -> Transport:
        return "http" if self.url else "stdio"


@dataclass(frozen=True)
class McpSettings:
    """The `[mcp]` table: limits for every tool call, and the servers."""

    call_timeout: float = _f(60.0, "Seconds one tool call may take before it is stopped and reported as timed out.")
    start_timeout: float = _f(15.0, "Seconds a server may take to start and list its tools.")
    max_parallel: int = _f(4, "Most tool calls of one model turn that run at the same time.")
    max_turns: int = _f(8, "Most model turns of one answer that may call tools (the loop ends after that).")
    max_output_chars: int = _f(16_000, "Longest tool output passed to the model and shown; the rest is cut.")
    servers: Mapping[str, McpServerSettings] = _f({}, "The servers, one [mcp.servers.NAME] table each.")

    @property
    def enabled(self) -> bool:
        return bool(self.servers)


def _value(path: str, where: str, value: Any, kind: type) -> Any:
    if kind is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if kind is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind is str and isinstance(value, str):
        return value
    if kind is tuple and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    if kind is dict and isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
        return dict(value)
    wanted = {float: "a number", int: "a whole number", str: "a string", tuple: "a list of strings",
              dict: "a table of strings"}[kind]
    raise ConfigError(f"{where}: '{path}' must be {wanted}, not {value!r}.")


def _fields(cls: type, data: Mapping[str, Any], prefix: str, where: str, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    known = {f.name: f for f in dataclasses.fields(cls) if f.name not in skip}
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key in skip:
            continue
        if key not in known:
            raise ConfigError(f"{where}: unknown setting '{prefix}.{key}'; known: {', '.join(known)}.")
        default = getattr(cls(), key)
        kind = dict if isinstance(default, Mapping) else type(default)
        out[key] = _value(f"{prefix}.{key}", where, value, kind)
    return out


def _server(name: str, data: Any, where: str) -> McpServerSettings:
    prefix = f"mcp.servers.{name}"
    if not _SERVER_NAME.match(name):
        raise ConfigError(f"{where}: '[{prefix}]': a server name may use only letters, digits, '_' and '-'.")
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: '{prefix}' must be a [{prefix}] table.")
    server = McpServerSettings(**_fields(McpServerSettings, data, prefix, where))
    if bool(server.command) == bool(server.url):
        raise ConfigError(f"{where}: '[{prefix}]' needs either `command` (a stdio server) or `url` (streamable HTTP), not both or neither.")
    if server.url and not server.url.startswith(("http://", "https://")):
        raise ConfigError(f"{where}: '{prefix}.url' must start with http:// or https://.")
    if server.url and (server.args or server.env):
        raise ConfigError(f"{where}: '[{prefix}]' sets `url`, so `args` and `env` would be ignored; remove them.")
    return server


def mcp_settings_from_mapping(data: Mapping[str, Any], where: str = "config.toml") -> McpSettings:
    """The parsed `[mcp]` table (with its `servers` sub-tables) as settings; mistakes are one line naming the key."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: 'mcp' must be an [mcp] table.")
    values = _fields(McpSettings, data, "mcp", where, skip=("servers",))
    servers = data.get("servers", {})
    if not isinstance(servers, dict):
        raise ConfigError(f"{where}: 'mcp.servers' must hold [mcp.servers.NAME] tables.")
    settings = McpSettings(**values, servers={name: _server(name, table, where) for name, table in servers.items()})
    for key in ("call_timeout", "start_timeout"):
        if getattr(settings, key) <= 0:
            raise ConfigError(f"{where}: 'mcp.{key}' must be more than 0 seconds.")
    for key in ("max_parallel", "max_turns", "max_output_chars"):
        if getattr(settings, key) < 1:
            raise ConfigError(f"{where}: 'mcp.{key}' must be at least 1.")
    return settings
