"""`assistant ask`, `models` and `history` run as a user runs them: a subprocess, the real embedded model."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import PYTHON, cli_env
from tests.fakes.ollama import FakeOllama

ASK = [PYTHON, "-m", "assistant", "ask", "--max-tokens", "12"]


def run(home: Path, *args: str, stdin: bytes | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(list(args), input=stdin, capture_output=True, env=cli_env(home, **env), timeout=120)
    return subprocess.CompletedProcess(proc.args, proc.returncode, proc.stdout.decode("utf-8", "replace"),
                                       proc.stderr.decode("utf-8", "replace"))


@pytest.mark.slow
def test_fresh_machine_answers_from_embedded_model(isolated_env: Path) -> None:
    result = run(isolated_env, *ASK, "What is the capital of France?")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
    assert "Ollama is not running" in result.stderr and "embedded:smollm2" in result.stderr
    assert "Traceback" not in result.stderr


def test_json_output_fields(isolated_env: Path) -> None:
    result = run(isolated_env, *ASK, "--json", "-m", "embedded:smollm2", "-s", "Answer briefly", "Hi")
    data = json.loads(result.stdout)
    assert {"text", "provider", "model", "cached", "input_tokens", "output_tokens", "cost_usd", "saved_usd",
            "ttft_ms", "total_ms", "conversation_id"} <= set(data)
    assert (data["provider"], data["model"], data["cached"], data["cost_usd"]) == ("embedded", "smollm2", False, 0.0)
    assert data["output_tokens"] > 0 and data["input_tokens"] > 0 and data["total_ms"] >= data["ttft_ms"] > 0


@pytest.mark.slow
def test_stdin_prompt_and_continue(isolated_env: Path) -> None:
    first = json.loads(run(isolated_env, *ASK, "--json", stdin=b"Say hello").stdout)
    second = json.loads(run(isolated_env, *ASK, "--json", "--continue", "And goodbye?").stdout)
    assert second["conversation_id"] == first["conversation_id"]
    third = json.loads(run(isolated_env, *ASK, "--json", "--conversation", first["conversation_id"][:6], "More").stdout)
    assert third["conversation_id"] == first["conversation_id"]
    shown = run(isolated_env, PYTHON, "-m", "assistant", "history", "show", first["conversation_id"])
    assert shown.stdout.count("── you") == 3 and "Say hello" in shown.stdout


def test_ollama_first_when_running(isolated_env: Path) -> None:
    with FakeOllama(models=["llama3.2:latest"], pieces=["Paris", "."]) as server:
        result = run(isolated_env, *ASK, "--json", "Capital of France?", OLLAMA_HOST=server.url)
        listed = run(isolated_env, PYTHON, "-m", "assistant", "models", OLLAMA_HOST=server.url)
    data = json.loads(result.stdout)
    assert (data["provider"], data["model"], data["text"]) == ("ollama", "llama3.2:latest", "Paris.")
    assert "✓ ollama:llama3.2:latest" in listed.stdout and "✓ embedded:smollm2" in listed.stdout


@pytest.mark.parametrize(("args", "stdin", "needle"), [
    (["ask", ""], None, "prompt is empty"),
    (["ask"], b"", "prompt is empty"),
    (["ask"], b"\xff\xfe bad bytes", "not valid UTF-8"),
    (["ask", "-m", "nonsense", "hi"], None, "provider:model"),
    (["ask", "-m", "acme:big", "hi"], None, "Unknown provider 'acme'"),
    (["ask", "-m", "ollama:llama3.2", "hi"], None, "ollama serve"),
    (["ask", "--max-tokens", "0", "hi"], None, "--max-tokens"),
    (["history", "show", "nope"], None, "history list"),
    (["history", "export", "nope", "--format", "pdf"], None, "invalid choice"),
    (["frobnicate"], None, "invalid choice"),
])
def test_bad_input_is_one_line(isolated_env: Path, args: list[str], stdin: bytes | None, needle: str) -> None:
    result = run(isolated_env, PYTHON, "-m", "assistant", *args, stdin=stdin)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert needle in result.stderr and "Traceback" not in result.stderr
    assert len([ln for ln in lines if ln.startswith("assistant:")]) == 1


def test_bad_config_is_one_line(isolated_env: Path) -> None:
    (isolated_env / "config").mkdir(parents=True)
    (isolated_env / "config" / "config.toml").write_text("[general]\nshout = true\n")
    result = run(isolated_env, *ASK, "hi")
    assert result.returncode == 1 and "general.shout" in result.stderr and "config.toml" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_history_list_search_export(isolated_env: Path, tmp_path: Path) -> None:
    data = json.loads(run(isolated_env, *ASK, "--json", "Tell me about zebras").stdout)
    cid = data["conversation_id"]
    assert cid in run(isolated_env, PYTHON, "-m", "assistant", "history", "list").stdout
    found = run(isolated_env, PYTHON, "-m", "assistant", "history", "search", "zebras")
    assert cid in found.stdout and "[zebras]" in found.stdout
    md = run(isolated_env, PYTHON, "-m", "assistant", "history", "export", cid, "--format", "md").stdout
    assert "Tell me about zebras" in md and data["text"].strip()[:10] in md
    out = tmp_path / "c.json"
    run(isolated_env, PYTHON, "-m", "assistant", "history", "export", cid, "--format", "json", "-o", str(out))
    assert json.loads(out.read_text())["conversation"]["id"] == cid


def test_every_file_lands_under_assistant_home(isolated_env: Path, tmp_path: Path) -> None:
    run(isolated_env, *ASK, "hi")
    written = {p.relative_to(isolated_env).parts[0] for p in isolated_env.rglob("*") if p.is_file()}
    assert written <= {"config", "data", "cache", "logs"} and "data" in written
