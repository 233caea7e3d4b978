"""Typed settings from config.toml plus environment overrides; every field documented and range-checked; no secrets."""

from __future__ import annotations

import dataclasses
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.core.errors import ConfigError
from assistant.core.spec import ProviderSpec
from assistant.core.types import ModelRef

POLICIES = ("local-first", "cheapest", "fastest", "best")
SEMANTIC_MODES = ("off", "suggest", "serve")
EMBEDDERS = ("auto", "wordllama", "local")


def setting(default: Any, doc: str, env: str = "", *, lo: float | None = None, hi: float | None = None,
            choices: tuple[str, ...] = ()) -> Any:
    """A documented setting; `lo`/`hi` bound numbers (inclusive), `choices` bound strings."""
    return field(default=default, metadata={"doc": doc, "env": env, "lo": lo, "hi": hi, "choices": choices})


@dataclass(frozen=True)
class GeneralSettings:
    default_model: str = setting("", "provider:model used when none is named; empty lets the router choose.")
    policy: str = setting("local-first", "Routing policy: local-first, cheapest, fastest or best.", choices=POLICIES)
    local_only: bool = setting(False, "Never send anything to a cloud provider.", "ASSISTANT_LOCAL_ONLY")
    monthly_budget_usd: float = setting(0.0, "Cloud spending cap per calendar month in USD; 0 means no cap.", lo=0)
    baseline_model: str = setting("", "Cloud model savings are measured against; empty means the cheapest cloud model "
                                      "in the fallback chain.")
    fallback: bool = setting(True, "Try the next candidate when the chosen provider fails.")


@dataclass(frozen=True)
class GenerationSettingsConfig:
    temperature: float = setting(-1.0, "Sampling temperature (0 to 2); -1 leaves it to the model's default.", lo=-1, hi=2)
    max_tokens: int = setting(1024, "Most tokens an answer may have.", lo=1, hi=1_000_000)


@dataclass(frozen=True)
class CacheSettings:
    enabled: bool = setting(True, "Answer repeated requests from the response cache and store new answers in it.")
    ttl_days: float = setting(30.0, "Entries older than this many days are not used and are pruned; 0 keeps them "
                                    "forever.", lo=0, hi=36500)
    max_entries: int = setting(50_000, "Most entries kept on disk; least recently used go first; 0 means no limit.",
                               lo=0, hi=100_000_000)
    max_mb: float = setting(100.0, "Most megabytes of answers kept on disk (about 50,000 answers of 2 KB); 0 means no "
                                   "limit.", lo=0, hi=1_000_000)
    hot_entries: int = setting(1024, "Entries also kept in memory for instant hits (at most 32 MB); 0 turns that tier "
                                     "off.", lo=0, hi=1_000_000)
    semantic: str = setting("suggest", "Answers to similar (not identical) questions: off; suggest (the chat app offers the "
                                       "earlier answer and you choose); serve (used at once, marked \"similar question\"). "
                                       "`assistant ask` uses them only with serve or --semantic.", "ASSISTANT_SEMANTIC",
                            choices=SEMANTIC_MODES)
    semantic_threshold: float = setting(0.0, "How alike two questions must be (cosine similarity, 0 to 1) before the "
                                             "word-by-word check; 0 uses the floor measured for the embedding model in "
                                             "use (0.70 for the bundled one). Higher serves fewer, closer matches.",
                                        lo=0, hi=1)
    semantic_embedder: str = setting("auto", "Embedding model for similar questions: auto (a local provider's embedding "
                                             "model when one is up, e.g. Ollama with nomic-embed-text; otherwise the "
                                             "bundled WordLlama), wordllama (always the bundled one) or local (only a "
                                             "local provider's).", choices=EMBEDDERS)
    semantic_model: str = setting("", "The local provider's embedding model to use; empty picks the first one it has.")


@dataclass(frozen=True)
class NetworkSettings:
    connect_timeout: float = setting(5.0, "Seconds to wait for a connection to a cloud provider.", lo=0.05, hi=300)
    read_timeout: float = setting(60.0, "Seconds to wait between streamed chunks before giving up.", lo=0.1, hi=3600)
    max_retries: int = setting(3, "Retries of a failed request before falling back (only before any text is shown).",
                               lo=0, hi=10)
    retry_max_wait: float = setting(20.0, "Longest single wait between retries, even when Retry-After asks for more.",
                                    lo=0, hi=600)
    first_token_timeout: float = setting(10.0, "Seconds a request waits for the first token from cloud models, retries "
                                               "included; then a model on this machine answers. 0 turns it off.",
                                         lo=0, hi=3600)


@dataclass(frozen=True)
class UISettings:
    reopen_last: bool = setting(False, "The chat app opens on the last conversation instead of a new one.",
                                "ASSISTANT_REOPEN_LAST")


@dataclass(frozen=True)
class TeamSettings:
    """A cache shared by a team on a Redis or Valkey server; its secret and password live in the keyring."""

    cache_url: str = setting("", "Team cache server: redis://host:6379/0, rediss:// for TLS, or unix:///path/to.sock; "
                                 "empty turns the team cache off. No password here: `assistant keys set team-password`.")
    namespace: str = setting("assistant", "Prefix of every key on the server; one per team (letters, digits, . _ -).")
    share: bool = setting(False, "Send this install's new answers to the team cache (opt-in); reading needs only "
                                 "cache_url and the team secret (`assistant keys set team`).")
    ttl_days: float = setting(30.0, "Days a shared answer lives on the server (older ones are not used); 0 keeps them "
                                    "until the server evicts them.", lo=0, hi=36500)
    read_timeout_ms: float = setting(10.0, "Longest a request waits for the team cache (connecting included) before "
                                           "going on without it.", lo=1, hi=5000)
    connect_timeout_ms: float = setting(100.0, "Milliseconds a connection (with the TLS handshake) may take; a request "
                                               "never waits longer than read_timeout_ms for it.", lo=1, hi=10000)
    cooldown_s: float = setting(10.0, "Seconds the team cache is skipped after a failure before one trial in the "
                                      "background (and between checks while idle).", lo=0.1, hi=3600)


# The team cache's secrets live in the keyring like provider keys: name -> (what it is, environment variables).
TEAM_SECRETS: Mapping[str, tuple[str, tuple[str, ...]]] = {
    "team": ("Team cache secret: signs and checks shared answers", ("ASSISTANT_TEAM_SECRET",)),
    "team-password": ("Team cache server password, if the server asks for one", ("ASSISTANT_TEAM_PASSWORD",)),
}


@dataclass(frozen=True)
class McpServerSettings:
    """One [mcp.servers.NAME] table: a program started over stdio (`command`), or a streamable-HTTP `url`."""

    command: str = setting("", "Program that starts a stdio MCP server, e.g. \"npx\" or \"uvx\"; empty when `url` is set.")
    args: tuple[str, ...] = setting((), "Arguments for `command`, e.g. [\"-y\", \"@modelcontextprotocol/server-filesystem\", "
                                        "\"/tmp\"].")
    env: Mapping[str, str] = field(default_factory=dict, hash=False, metadata={
        "doc": "Environment for `command` (PATH, HOME and USER are passed on anyway); a value \"${NAME}\" is taken "
               "from your environment when the server starts, so tokens need not be written here."})
    url: str = setting("", "Streamable-HTTP endpoint of a running MCP server, e.g. \"http://127.0.0.1:8000/mcp\".")
    trusted_tools: tuple[str, ...] = setting((), "Tools of this server that run without asking (\"*\" for all of them).")

    @property
    def transport(self) -> str:
        return "http" if self.url else "stdio"


@dataclass(frozen=True)
class McpSettings:
    call_timeout: float = setting(60.0, "Seconds one tool call may take before it is stopped and reported as timed "
                                        "out.", lo=0.1, hi=3600)
    start_timeout: float = setting(15.0, "Seconds an MCP server may take to start and list its tools.", lo=0.1, hi=600)
    max_parallel: int = setting(4, "Most tool calls of one model turn that run at the same time.", lo=1, hi=64)
    max_turns: int = setting(8, "Most rounds of tool calls in one answer; further calls the model asks for are not "
                                "run.", lo=1, hi=100)
    max_output_chars: int = setting(16_000, "Longest tool output passed to the model and shown; the rest is cut.",
                                    lo=100, hi=10_000_000)
    servers: Mapping[str, McpServerSettings] = field(default_factory=dict, hash=False, metadata={
        "table": True, "doc": "The servers: one [mcp.servers.NAME] table each, described below."})

    @property
    def enabled(self) -> bool:
        return bool(self.servers)


@dataclass(frozen=True)
class AttachmentSettings:
    max_text_kb: int = setting(512, "Largest text file that can be attached (-f, or attach in the app), in KB.",
                               lo=1, hi=100_000)
    max_image_mb: float = setting(5.0, "Largest image that can be attached, in MB (Anthropic takes at most 5 MB an "
                                       "image, OpenAI and Gemini 20 MB a request).", lo=0.01, hi=100)


@dataclass(frozen=True)
class Settings:
    general: GeneralSettings = GeneralSettings()
    generation: GenerationSettingsConfig = GenerationSettingsConfig()
    cache: CacheSettings = CacheSettings()
    network: NetworkSettings = NetworkSettings()
    ui: UISettings = UISettings()
    team: TeamSettings = TeamSettings()
    attachments: AttachmentSettings = AttachmentSettings()
    mcp: McpSettings = McpSettings()
    # Per-model price overrides: {"openai:gpt-4o-mini": {"input_per_mtok": 0.15, "output_per_mtok": 0.6}}
    prices: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    # One [name] table per provider, typed by the provider's own section class (see ProviderSpec.section).
    providers: Mapping[str, Any] = field(default_factory=dict)

    def provider(self, spec: ProviderSpec) -> Any:
        """The provider's settings: its [name] table, or its defaults when the file has none."""
        found = self.providers.get(spec.name)
        return found if found is not None else spec.default_section()

    def default_refs(self, specs: Mapping[str, ProviderSpec], *, local_only: bool = False,
                     local: bool = True) -> list[ModelRef]:
        """Each provider's configured default model, in registry order: the ones on this machine, then the cloud
        ones (unless local-only), before anything is probed. What the router starts from and the cache looks up."""
        refs: list[ModelRef] = []
        for cloud in (False, True):
            if (cloud and local_only) or (not cloud and not local):
                continue
            for spec in specs.values():
                model = spec.default_model(self.provider(spec))
                if spec.local != cloud and model:
                    refs.append(ModelRef(spec.name, spec.canonical_model(model)))
        return refs


_APP_SECTIONS = tuple(f.name for f in dataclasses.fields(Settings) if f.name not in ("prices", "providers"))
_SECRET_WORDS = ("api_key", "apikey", "secret", "token", "password")
_SERVER_NAME = re.compile(r"[A-Za-z0-9_-]{1,40}")


def _coerce(path: str, where: str, value: Any, kind: type) -> Any:
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            return value.lower() in ("1", "true", "yes", "on")
    elif kind is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
    elif kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value)
    elif kind is str and isinstance(value, str):
        return value
    elif kind in (list, tuple) and isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return tuple(value)
    elif issubclass(kind, Mapping):
        if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
            return dict(value)
        # The values may be tokens (an MCP server's environment): the message never repeats them.
        raise ConfigError(f"{where}: '{path}' must be a table of strings, e.g. {{ NAME = \"value\" }}.")
    shown = kind.__name__ if kind not in (list, tuple) else "a list of strings"
    raise ConfigError(f"{where}: '{path}' must be {shown}, not {value!r}.")


def _in_range(path: str, where: str, value: Any, meta: Mapping[str, Any]) -> None:
    lo, hi, choices = meta.get("lo"), meta.get("hi"), meta.get("choices") or ()
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{where}: '{path}' must be a finite number, not {value!r}.")
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if number and ((lo is not None and value < lo) or (hi is not None and value > hi)):
        if lo is not None and hi is not None:
            span = f"from {lo:g} to {hi:g}"
        else:
            span = f"at least {lo:g}" if lo is not None else f"at most {hi:g}"
        raise ConfigError(f"{where}: '{path}' is {value:g}; it must be {span}.")
    if choices and value not in choices:
        raise ConfigError(f"{where}: '{path}' must be one of {', '.join(choices)}, not {value!r}.")


def _looks_secret(key: str) -> bool:
    lowered = key.lower()
    return lowered in _SECRET_WORDS or ("key" in lowered and lowered != "keep_alive")


def _section(base: Any, data: Mapping[str, Any], name: str, where: str) -> Any:
    known = {f.name: f for f in dataclasses.fields(base) if not f.metadata.get("table")}
    values: dict[str, Any] = {}
    for key, value in data.items():
        if _looks_secret(key):
            raise ConfigError(f"{where}: '{name}.{key}' looks like a secret; store keys with `assistant keys set {name}` "
                              "instead.")
        if key not in known:
            raise ConfigError(f"{where}: unknown setting '{name}.{key}'; known: {', '.join(known)}.")
        coerced = _coerce(f"{name}.{key}", where, value, type(getattr(base, key)))
        _in_range(f"{name}.{key}", where, coerced, known[key].metadata)
        values[key] = coerced
    return dataclasses.replace(base, **values)


def _prices(data: Any, where: str) -> dict[str, dict[str, float]]:
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: 'prices' must be a table of \"provider:model\" tables.")
    out: dict[str, dict[str, float]] = {}
    for model, entry in data.items():
        if ":" not in model or not isinstance(entry, dict):
            raise ConfigError(f"{where}: 'prices.{model}' must be a table named \"provider:model\".")
        out[model] = {}
        for k, v in entry.items():
            if k not in ("input_per_mtok", "output_per_mtok"):
                raise ConfigError(f"{where}: unknown setting 'prices.\"{model}\".{k}'; use input_per_mtok and "
                                  "output_per_mtok.")
            price = _coerce(f"prices.{model}.{k}", where, v, float)
            _in_range(f"prices.{model}.{k}", where, price, {"lo": 0, "hi": 1_000_000})
            out[model][k] = price
    return out


def _mcp_server(name: str, data: Any, where: str) -> McpServerSettings:
    path = f"mcp.servers.{name}"
    if not _SERVER_NAME.fullmatch(name):
        raise ConfigError(f"{where}: '[{path}]': a server name may use only letters, digits, '_' and '-'.")
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: '{path}' must be a [{path}] table.")
    for key in data:
        if key not in {f.name for f in dataclasses.fields(McpServerSettings)} and _looks_secret(key):
            raise ConfigError(f"{where}: '{path}.{key}' looks like a secret; give the server its token through `env` "
                              f"as {{ NAME = \"${{NAME}}\" }} and set NAME in your environment.")
    server: McpServerSettings = _section(McpServerSettings(), data, path, where)
    if bool(server.command) == bool(server.url):
        raise ConfigError(f"{where}: '[{path}]' needs either `command` (a stdio server) or `url` (streamable HTTP), "
                          "not both or neither.")
    if server.url and not server.url.startswith(("http://", "https://")):
        raise ConfigError(f"{where}: '{path}.url' must start with http:// or https://.")
    if server.url and (server.args or server.env):
        raise ConfigError(f"{where}: '[{path}]' sets `url`, so `args` and `env` would be ignored; remove them.")
    return server


def _mcp(data: Any, where: str) -> McpSettings:
    """[mcp] with its limits, and one [mcp.servers.NAME] table per server."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: 'mcp' must be an [mcp] table.")
    servers = data.get("servers", {})
    if not isinstance(servers, dict):
        raise ConfigError(f"{where}: 'mcp.servers' must hold [mcp.servers.NAME] tables.")
    limits: McpSettings = _section(McpSettings(), {k: v for k, v in data.items() if k != "servers"}, "mcp", where)
    return dataclasses.replace(limits, servers={n: _mcp_server(n, t, where) for n, t in servers.items()})


def settings_from_mapping(data: Mapping[str, Any], specs: Mapping[str, ProviderSpec] | None = None,
                          where: str = "config.toml") -> Settings:
    """Build settings from parsed TOML; unknown keys, wrong types and values out of range are errors naming the key."""
    specs = specs or {}
    sections: dict[str, Any] = {}
    providers: dict[str, Any] = {name: spec.default_section() for name, spec in specs.items()}
    for name, value in data.items():
        if name == "prices":
            sections["prices"] = _prices(value, where)
            continue
        if name == "mcp":
            sections["mcp"] = _mcp(value, where)
            continue
        if name not in _APP_SECTIONS and name not in specs:
            raise ConfigError(f"{where}: unknown section '[{name}]'; see `assistant config defaults` for every setting.")
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: '{name}' must be a [{name}] table.")
        if name in specs:
            providers[name] = _section(providers[name], value, name, where)
        else:
            sections[name] = _section(getattr(Settings(), name), value, name, where)
    return dataclasses.replace(Settings(), **sections, providers=providers)


def _env_values(current: Any, environ: Mapping[str, str], extra: Mapping[str, tuple[str, ...]], name: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for f in dataclasses.fields(current):
        names = ((f.metadata.get("env"),) if f.metadata.get("env") else ()) + tuple(extra.get(f.name, ()))
        for env in names:
            if env and environ.get(env):
                value = _coerce(f"{name}.{f.name}", env, environ[env], type(getattr(current, f.name)))
                _in_range(f.name, env, value, f.metadata)
                values[f.name] = value
                break
    return values


def apply_environment(settings: Settings, environ: Mapping[str, str],
                      specs: Mapping[str, ProviderSpec] | None = None) -> Settings:
    """Environment variables users already set for these tools win over the file."""
    changes: dict[str, Any] = {}
    for name in _APP_SECTIONS:
        current = getattr(settings, name)
        values = _env_values(current, environ, {}, name)
        if values:
            changes[name] = dataclasses.replace(current, **values)
    providers = dict(settings.providers)
    for name, spec in (specs or {}).items():
        current = settings.provider(spec)
        values = _env_values(current, environ, spec.env, name)
        if values:
            providers[name] = dataclasses.replace(current, **values)
    return dataclasses.replace(settings, **changes, providers=providers)


def load_settings(config_file: Path, specs: Mapping[str, ProviderSpec] | None = None,
                  environ: Mapping[str, str] | None = None) -> Settings:
    """Read config.toml (missing is fine; a UTF-8 byte-order mark is accepted) and apply environment overrides."""
    data: dict[str, Any] = {}
    try:
        text = config_file.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        text = ""
    except IsADirectoryError as exc:
        raise ConfigError(f"{config_file} is a folder, not a file; move it aside.") from exc
    except NotADirectoryError as exc:  # the home (or its config folder) is a file
        blocker = next((p for p in config_file.parents if p.exists() and not p.is_dir()), config_file.parent)
        raise ConfigError(f"{blocker} is a file, but the app keeps its files in a folder there; move the file away, "
                          "or set ASSISTANT_HOME to another folder.") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{config_file}: cannot be read ({exc.__class__.__name__}); fix its permissions or "
                          "encoding (UTF-8).") from exc
    if text.strip():  # no file, no parser: tomllib (and the datetime it needs) cost a cached `ask` 3 ms
        import tomllib

        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{config_file}: {exc}. Fix the file or move it aside.") from exc
    settings = settings_from_mapping(data, specs, str(config_file))
    return apply_environment(settings, os.environ if environ is None else environ, specs)


def _rendered(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "[" + ", ".join(f'"{v}"' for v in value) + "]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f'{k} = "{v}"' for k, v in value.items()) + " }" if value else "{}"
    return repr(value).replace("'", '"')


def _describe(name: str, current: Any, extra_env: Mapping[str, tuple[str, ...]]) -> list[str]:
    lines = [f"[{name}]"]
    for f in dataclasses.fields(current):
        names = ((f.metadata["env"],) if f.metadata.get("env") else ()) + tuple(extra_env.get(f.name, ()))
        env = f" (environment: {' or '.join(names)})" if names else ""
        lines.append(f"# {f.metadata['doc']}{env}")
        lines.append(f"# {f.name} = {_rendered(getattr(current, f.name))}")
    return lines + [""]


def default_config_text(specs: Mapping[str, ProviderSpec] | None = None) -> str:
    """A commented config.toml listing every setting with its default."""
    lines = ["# assistant configuration. Every setting is shown with its default.", ""]
    defaults = Settings()
    for name in _APP_SECTIONS:
        lines += _describe(name, getattr(defaults, name), {})
    lines += ["# MCP servers whose tools the model may call, each only with your consent. One table per server:"]
    server = _describe("mcp.servers.NAME", McpServerSettings(), {})
    lines += ["# " + server[0]] + server[1:]
    for name, spec in (specs or {}).items():
        lines += _describe(name, spec.default_section(), spec.env)
    lines += ["# [prices.\"openai:gpt-4o-mini\"]", "# input_per_mtok = 0.15", "# output_per_mtok = 0.6", ""]
    return "\n".join(lines)
