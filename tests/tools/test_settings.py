"""The [mcp] settings: documented fields, parsed from the TOML dict, mistakes as one line naming the key."""

from __future__ import annotations

import dataclasses
import tomllib

import pytest

from assistant.core.errors import ConfigError
from assistant.tools import McpServerSettings, McpSettings, mcp_settings_from_mapping

CONFIG = """
[mcp]
call_timeout = 30
max_parallel = 2

[mcp.servers.files]
command = "npx"
args = ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"]
env = {LOG_LEVEL = "warn"}
trusted_tools = ["read_file"]

[mcp.servers.web]
url = "http://127.0.0.1:8000/mcp"
"""


def test_parses_the_config_toml_shape() -> None:
    settings = mcp_settings_from_mapping(tomllib.loads(CONFIG)["mcp"])
    assert (settings.call_timeout, settings.max_parallel, settings.max_turns) == (30.0, 2, McpSettings().max_turns)
    files, web = settings.servers["files"], settings.servers["web"]
    assert files == McpServerSettings("npx", ("-y", "@modelcontextprotocol/server-filesystem", "/tmp"),
                                      {"LOG_LEVEL": "warn"}, "", ("read_file",))
    assert (files.transport, web.transport, web.url) == ("stdio", "http", "http://127.0.0.1:8000/mcp")
    assert settings.enabled and not McpSettings().enabled


def test_every_field_is_documented() -> None:
    for cls in (McpSettings, McpServerSettings):
        for f in dataclasses.fields(cls):
            assert f.metadata.get("doc", "").endswith("."), f"{cls.__name__}.{f.name}"


@pytest.mark.parametrize(("data", "message"), [
    ({"servers": {"x": {}}}, "config.toml: '[mcp.servers.x]' needs either `command` (a stdio server) or `url` (streamable HTTP), not both or neither."),
    ({"servers": {"x": {"command": "a", "url": "http://h"}}}, "needs either `command`"),
    ({"servers": {"x": {"url": "ftp://h"}}}, "'mcp.servers.x.url' must start with http:// or https://."),
    ({"servers": {"x": {"command": "a", "args": "-y"}}}, "'mcp.servers.x.args' must be a list of strings, not '-y'."),
    ({"servers": {"x": {"command": "a", "env": {"N": 1}}}}, "'mcp.servers.x.env' must be a table of strings"),
    ({"servers": {"x": {"command": "a", "trusted": ["y"]}}}, "unknown setting 'mcp.servers.x.trusted'; known: command, args, env, url, trusted_tools."),
    ({"servers": {"a.b": {"command": "a"}}}, "'[mcp.servers.a.b]': a server name may use only letters, digits, '_' and '-'."),
    ({"servers": {"x": "npx"}}, "'mcp.servers.x' must be a [mcp.servers.x] table."),
    ({"servers": ["x"]}, "'mcp.servers' must hold [mcp.servers.NAME] tables."),
    ({"call_timeout": 0}, "'mcp.call_timeout' must be more than 0 seconds."),
    ({"max_parallel": 0}, "'mcp.max_parallel' must be at least 1."),
    ({"max_turns": "8"}, "'mcp.max_turns' must be a whole number, not '8'."),
    ({"timeout": 3}, "unknown setting 'mcp.timeout'"),
])
def test_mistakes_are_one_line_naming_the_key(data: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        mcp_settings_from_mapping(data)
    assert message in caught.value.message and "\n" not in caught.value.message
