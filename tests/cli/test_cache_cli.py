"""`assistant ask` twice and `assistant cache stats | clear | prune`, through the real CLI entry point."""

from __future__ import annotations

import io
import json
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from assistant.core.cache_key import KEY_SCHEME
from assistant.core.records import CachedAnswer
from assistant.core.types import Usage
from assistant.main import main
from assistant.storage.cache import CacheLimits, ResponseCache
from assistant.storage.calls import CallLog
from assistant.storage.db import open_database
from tests.conftest import PYTHON, cli_env
from tests.helpers import ScriptedProvider, serve_with

# A repeated question is answered with no event loop, no engine, no HTTP client, no SDK and no keyring.
HEAVY = ("httpx", "ollama", "llama_cpp", "keyring", "sqlite_utils", "textual", "asyncio", "concurrent",
         "assistant.engine.engine", "assistant.engine.chat", "assistant.providers.http", "numpy", "wordllama")
ASK = ["ask", "--json", "-m", "openai:gpt-4o-mini", "What is WAL?"]


@pytest.fixture
def openai(monkeypatch: pytest.MonkeyPatch) -> ScriptedProvider:
    """`assistant ask` gets an engine on the real data folder whose openai provider is scripted."""
    provider = ScriptedProvider("openai", [["Write-ahead ", "logging.", Usage(2000, 1000)]], local=False)
    serve_with(monkeypatch, [provider], {"OPENAI_API_KEY": "sk-test"})
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # nothing piped in
    return provider


def run_json(capsys: pytest.CaptureFixture[str], args: list[str]) -> dict[str, Any]:
    assert main(args) == 0
    return json.loads(capsys.readouterr().out)


def database(home: Path) -> Any:
    return open_database(home / "data" / "assistant.db").conn


def test_ask_twice_second_is_cached_free_and_saves_the_first_cost(
        openai: ScriptedProvider, capsys: pytest.CaptureFixture[str]) -> None:
    first = run_json(capsys, ASK)
    second = run_json(capsys, ASK)
    assert first["cached"] is False and first["cost_usd"] > 0
    assert second["cached"] is True and second["cost_usd"] == 0
    assert second["saved_usd"] == first["cost_usd"] and second["text"] == first["text"] == "Write-ahead logging."
    assert len(openai.requests) == 1
    third = run_json(capsys, [*ASK[:1], "--no-cache", *ASK[1:]])
    assert third["cached"] is False and len(openai.requests) == 2


def test_stats_counts_hits_misses_and_savings(openai: ScriptedProvider, capsys: pytest.CaptureFixture[str]) -> None:
    first = run_json(capsys, ASK)
    run_json(capsys, ASK)
    run_json(capsys, ASK)
    stats = run_json(capsys, ["cache", "stats", "--json"])
    assert stats["entries"] == 1 and stats["bytes"] > len("Write-ahead logging.")
    for window in (stats["all_time"], stats["last_7_days"]):
        assert (window["hits"], window["misses"]) == (2, 1)
        assert window["hit_rate"] == pytest.approx(2 / 3, abs=1e-4)
        assert window["tokens_saved"] == 2 * 3000
        assert window["usd_saved"] == pytest.approx(2 * first["cost_usd"])
    assert main(["cache", "stats"]) == 0
    text = capsys.readouterr().out
    assert "66.7%" in text and "2 hits, 1 misses" in text


def test_clear_with_filters(capsys: pytest.CaptureFixture[str], isolated_env: Path) -> None:
    cache = ResponseCache(database(isolated_env), CacheLimits(ttl_seconds=0))
    now = time.time()
    for key, provider, model, age in (("b3:1", "openai", "gpt-4o-mini", 40), ("b3:2", "openai", "gpt-4o", 1),
                                      ("b3:3", "ollama", "llama3.2:latest", 1), ("b3:4", "anthropic", "claude", 1)):
        cache.put(CachedAnswer(key, provider, model, "text", 1, 1, 0.0, False, None, None, now - age * 86400))
    assert main(["cache", "clear", "--older-than", "30d"]) == 0
    assert main(["cache", "clear", "--model", "ollama:llama3.2"]) == 0
    assert main(["cache", "clear", "--provider", "openai", "--model", "gpt-4o"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == ["Removed 1 cached answer."] * 3
    assert {k for (k,) in cache.conn.execute("SELECT key FROM response_cache")} == {"b3:4"}
    assert main(["cache", "clear", "--older-than", "soon"]) == 2
    assert "not an age" in capsys.readouterr().err
    assert main(["cache", "clear"]) == 0 and "Removed 1" in capsys.readouterr().out


def test_prune_applies_the_configured_limits(capsys: pytest.CaptureFixture[str], isolated_env: Path) -> None:
    (isolated_env / "config").mkdir(parents=True)
    (isolated_env / "config" / "config.toml").write_text("[cache]\nmax_entries = 2\nttl_days = 10\n")
    cache = ResponseCache(database(isolated_env), scheme=KEY_SCHEME)  # what the app stores under
    now = time.time()
    for i, age in enumerate((20, 3, 2, 1, 0)):
        cache.put(CachedAnswer(f"b3:{i}", "openai", "m", "x" * 500, 1, 1, 0.0, False, None, None, now - age * 86400 - i))
    result = run_json(capsys, ["cache", "prune", "--json"])
    assert (result["expired"], result["evicted"], result["entries"]) == (1, 2, 2)
    assert {k for (k,) in cache.conn.execute("SELECT key FROM response_cache")} == {"b3:3", "b3:4"}
    assert main(["cache", "prune"]) == 0 and "Removed 0 entries" in capsys.readouterr().out


def test_cached_ask_imports_no_provider_library(openai: ScriptedProvider, capsys: pytest.CaptureFixture[str],
                                                isolated_env: Path) -> None:
    run_json(capsys, ASK)
    proc = subprocess.run([PYTHON, "-X", "importtime", "-m", "assistant", *ASK], env=cli_env(isolated_env),
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-500:]
    assert json.loads(proc.stdout)["cached"] is True
    imported = {name.strip() for name in re.findall(r"\|\s+([\w.]+)\s*$", proc.stderr, re.M)}
    assert "assistant" in imported and imported.isdisjoint(HEAVY), sorted(imported & set(HEAVY))


def test_hit_counts_add_up_calls(tmp_path: Path) -> None:
    conn = open_database(tmp_path / "a.db").conn
    now = time.time()
    rows = [(1, "ok", None, 10, 5, 0.5, now), (0, "ok", 1, 10, 5, 0.0, now), (0, "ok", None, 10, 5, 0.0, now),
            (0, "error", 1, 0, 0, 0.0, now), (1, "ok", None, 100, 50, 2.0, now - 10 * 86400)]
    conn.executemany("INSERT INTO calls (request_id, provider, model, cached, outcome, cache_eligible, input_tokens, "
                     "output_tokens, saved_usd, created_at) VALUES ('r', 'openai', 'm', ?, ?, ?, ?, ?, ?, ?)", rows)
    week = CallLog(conn).hit_window(now - 7 * 86400)
    assert (week.hits, week.misses, week.tokens_saved, week.usd_saved, week.hit_rate) == (1, 1, 15, 0.5, 0.5)
    every = CallLog(conn).hit_window()
    assert (every.hits, every.tokens_saved, every.usd_saved) == (2, 165, 2.5)



def test_local_only_still_answers_from_the_cache_without_sending_anything(openai: ScriptedProvider,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """A cached answer leaves nothing on the wire, so local-only mode may use it (the same in both paths)."""
    run_json(capsys, ASK)
    asked = len(openai.requests)
    assert run_json(capsys, ["ask", "--json", "--local-only", *ASK[2:]])["cached"] is True
    assert len(openai.requests) == asked
