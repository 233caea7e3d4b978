"""Settings: documented defaults, file and environment layering, range checks, one-line errors naming file and key."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from assistant.core.config import Settings, default_config_text, load_settings
from assistant.core.errors import ConfigError
from assistant.core.paths import resolve_paths
from assistant.providers.ollama import base_url, host_port
from assistant.providers.registry import Registry

SPECS = Registry().specs()


def write(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding=encoding)
    return path


def load(path: Path, environ: dict[str, str] | None = None) -> Settings:
    return load_settings(path, SPECS, environ or {})


def test_missing_file_gives_defaults(tmp_path: Path) -> None:
    s = load(tmp_path / "nope.toml")
    assert s.general == Settings().general and s.providers["openai"].model == "gpt-4o-mini"
    assert set(s.providers) == set(SPECS)  # every provider has its section, from its own spec


def test_file_values_and_types(tmp_path: Path) -> None:
    s = load(write(tmp_path, '[general]\npolicy = "cheapest"\n[cache]\nmax_entries = 10\nttl_days = 2\n'
                             '[embedded]\nthreads = 2\n'))
    assert s.general.policy == "cheapest" and s.cache.max_entries == 10 and s.cache.ttl_days == 2.0
    assert s.providers["embedded"].threads == 2


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    assert load(write(tmp_path, '[general]\npolicy = "best"\n', "utf-8-sig")).general.policy == "best"


@pytest.mark.parametrize(("text", "needle"), [
    ("[general\n", "config.toml"),
    ("[general]\ncolour = 1\n", "unknown setting 'general.colour'"),
    ("[nonsense]\n", "unknown section '[nonsense]'"),
    ("[cache]\nmax_entries = \"lots\"\n", "'cache.max_entries' must be int"),
    ("[general]\npolicy = \"random\"\n", "'general.policy' must be one of"),
    ("[openai]\napi_key = \"sk-123\"\n", "looks like a secret"),
    ("[network]\nread_timeout = 0\n", "'network.read_timeout' is 0; it must be from 0.1 to 3600"),
    ("[network]\nread_timeout = -1\n", "'network.read_timeout' is -1"),
    ("[network]\nread_timeout = nan\n", "'network.read_timeout' must be a finite number"),
    ("[network]\nmax_retries = 1000000000\n", "'network.max_retries' is 1e+09; it must be from 0 to 10"),
    ("[network]\nretry_max_wait = inf\n", "'network.retry_max_wait' must be a finite number"),
    ("[cache]\nhot_entries = -5\n", "'cache.hot_entries' is -5"),
    ("[cache]\nmax_mb = -1\n", "'cache.max_mb' is -1"),
    ("[embedded]\nthreads = -2\n", "'embedded.threads' is -2"),
    ("[embedded]\ncontext_size = 0\n", "'embedded.context_size' is 0"),
])
def test_bad_file_is_one_line_naming_file_and_key(tmp_path: Path, text: str, needle: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(write(tmp_path, text))
    message = info.value.message
    assert needle in message and str(tmp_path) in message and "\n" not in message
    assert "sk-123" not in message


def test_environment_overrides(tmp_path: Path) -> None:
    s = load(write(tmp_path, '[ollama]\nhost = "http://a:1"\n'),
             {"OLLAMA_HOST": "0.0.0.0:11434", "OPENAI_BASE_URL": "http://gw/v1"})
    assert s.providers["ollama"].host == "0.0.0.0:11434" and s.providers["openai"].base_url == "http://gw/v1"
    # Ollama itself accepts an address without a scheme; so does its provider.
    assert base_url(s.providers["ollama"].host) == "http://0.0.0.0:11434"


def test_an_environment_value_out_of_range_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ASSISTANT_LOCAL_ONLY"):
        load(tmp_path / "none.toml", {"ASSISTANT_LOCAL_ONLY": "maybe"})


@pytest.mark.parametrize("host", ["http://127.0.0.1:99999", "::::", "http://", "ftp://x:1"])
def test_a_malformed_ollama_address_says_what_to_set(host: str) -> None:
    with pytest.raises(ConfigError, match="OLLAMA_HOST"):
        host_port(host)


def test_every_setting_is_documented() -> None:
    text = default_config_text(SPECS)
    sections = [getattr(Settings(), f.name) for f in dataclasses.fields(Settings)]
    sections += [spec.default_section() for spec in SPECS.values()]
    for value in sections:
        if dataclasses.is_dataclass(value):
            for f in dataclasses.fields(value):
                assert f.metadata.get("doc"), f"{type(value).__name__}.{f.name} has no documentation"
                assert f"# {f.name} = " in text
    assert "[ollama]" in text and "(environment: OLLAMA_HOST)" in text and "(environment: GEMINI_BASE_URL)" in text


def test_assistant_home_relocates_everything(tmp_path: Path) -> None:
    paths = resolve_paths({"ASSISTANT_HOME": str(tmp_path)})
    for p in (paths.config_file, paths.database, paths.log_file, paths.cache_dir, paths.state_file):
        assert tmp_path in p.parents


def test_platformdirs_without_home() -> None:
    paths = resolve_paths({})
    assert paths.database.name == "assistant.db" and "assistant" in str(paths.config_dir)
