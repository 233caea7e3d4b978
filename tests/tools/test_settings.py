"""The [mcp] settings in core/config.py: documented fields, parsed from the TOML dict, mistakes as one line naming
the key, an environment whose values may be tokens (never repeated in a message)."""

from __future__ import annotations

import dataclasses
import tomllib

import pytest

from assistant.core.config import McpServerSettings, McpSettings, default_config_text, settings_from_mapping
from assistant.core.errors import ConfigError
from assistant.tools.connection import StartFailed, server_env, shown_url


def mcp_settings(data: dict[str, object]) -> McpSettings:
    return settings_from_mapping({"mcp": data}).mcp

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
    settings = settings_from_mapping(tomllib.loads(CONFIG)).mcp
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
    text = default_config_text()
    assert "[mcp]" in text and "# [mcp.servers.NAME]" in text
    assert all(f"# {f.name} = " in text for cls in (McpSettings, McpServerSettings) for f in dataclasses.fields(cls))


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
    ({"call_timeout": 0}, "'mcp.call_timeout' is 0; it must be from 0.1 to 3600."),
    ({"max_parallel": 0}, "'mcp.max_parallel' is 0; it must be from 1 to 64."),
    ({"max_turns": "many"}, "'mcp.max_turns' must be int, not 'many'."),
    ({"servers": {"x": {"command": "a", "token": "s3cret"}}}, "'mcp.servers.x.token' looks like a secret; give the server its token through `env`"),
    ({"timeout": 3}, "unknown setting 'mcp.timeout'"),
])
def test_mistakes_are_one_line_naming_the_key(data: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        mcp_settings(data)
    assert message in caught.value.message and "\n" not in caught.value.message


def test_env_names_may_look_like_secrets_and_their_values_are_never_repeated() -> None:
    """A server's token belongs in its env (MCP servers read them there): the secret check of setting names does
    not look inside `env`, and a bad env value is reported without echoing any value."""
    server = mcp_settings({"servers": {"gh": {"command": "x", "env": {"GITHUB_TOKEN": "ghp_abc", "API_KEY": "k"}}}})
    assert dict(server.servers["gh"].env) == {"GITHUB_TOKEN": "ghp_abc", "API_KEY": "k"}
    with pytest.raises(ConfigError) as caught:
        mcp_settings({"servers": {"gh": {"command": "x", "env": {"GITHUB_TOKEN": ["ghp_abc"]}}}})
    assert "ghp_abc" not in caught.value.message


def test_env_references_are_taken_from_the_environment_when_the_server_starts() -> None:
    env = server_env("gh", {"GITHUB_TOKEN": "${GH}", "MODE": "x-${GH}-y", "PLAIN": "$GH"}, {"GH": "ghp_abc"})
    assert env == {"GITHUB_TOKEN": "ghp_abc", "MODE": "x-ghp_abc-y", "PLAIN": "$GH"}
    with pytest.raises(StartFailed) as caught:
        server_env("gh", {"GITHUB_TOKEN": "${GH_TOKEN}"}, {})
    assert str(caught.value) == ("its env GITHUB_TOKEN needs ${GH_TOKEN}, which is not set in your environment; "
                                 "set it, or change [mcp.servers.gh].env")


def test_urls_are_shown_without_credentials() -> None:
    assert shown_url("https://user:pw@example.com:8443/mcp?token=abc") == "https://example.com:8443/mcp"
