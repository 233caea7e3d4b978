"""Settings: documented defaults, file and environment layering, one-line errors naming file and key."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from assistant.config import Settings, default_config_text, load_settings
from assistant.errors import ConfigError
from assistant.paths import resolve_paths


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_missing_file_gives_defaults(tmp_path: Path) -> None:
    assert load_settings(tmp_path / "nope.toml", {}) == Settings()


def test_file_values_and_types(tmp_path: Path) -> None:
    s = load_settings(write(tmp_path, '[general]\npolicy = "cheapest"\n[cache]\nmax_entries = 10\nttl_days = 2\n'), {})
    assert s.general.policy == "cheapest" and s.cache.max_entries == 10 and s.cache.ttl_days == 2.0


@pytest.mark.parametrize(("text", "needle"), [
    ("[general\n", "config.toml"),
    ("[general]\ncolour = 1\n", "unknown setting 'general.colour'"),
    ("[nonsense]\n", "unknown section '[nonsense]'"),
    ("[cache]\nmax_entries = \"lots\"\n", "'cache.max_entries' must be int"),
    ("[general]\npolicy = \"random\"\n", "'general.policy' must be one of"),
    ("[openai]\napi_key = \"sk-123\"\n", "looks like a secret"),
])
def test_bad_file_is_one_line_naming_file_and_key(tmp_path: Path, text: str, needle: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, text), {})
    message = info.value.message
    assert needle in message and str(tmp_path) in message and "\n" not in message
    assert "sk-123" not in message


def test_environment_overrides(tmp_path: Path) -> None:
    s = load_settings(write(tmp_path, '[ollama]\nhost = "http://a:1"\n'), {"OLLAMA_HOST": "0.0.0.0:11434", "OPENAI_BASE_URL": "http://gw/v1"})
    assert s.ollama.host == "http://0.0.0.0:11434" and s.openai.base_url == "http://gw/v1"


def test_every_setting_is_documented() -> None:
    text = default_config_text()
    for section in dataclasses.fields(Settings):
        value = getattr(Settings(), section.name)
        if dataclasses.is_dataclass(value):
            for f in dataclasses.fields(value):
                assert f.metadata.get("doc"), f"{section.name}.{f.name} has no documentation"
                assert f"# {f.name} = " in text


def test_assistant_home_relocates_everything(tmp_path: Path) -> None:
    paths = resolve_paths({"ASSISTANT_HOME": str(tmp_path)})
    for p in (paths.config_file, paths.database, paths.log_file, paths.cache_dir, paths.state_file):
        assert tmp_path in p.parents


def test_platformdirs_without_home() -> None:
    paths = resolve_paths({})
    assert paths.database.name == "assistant.db" and "assistant" in str(paths.config_dir)
