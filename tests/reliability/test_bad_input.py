"""Reliability 5: bad input gets one line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes.ollama import FakeOllama
from tests.reliability.support import MODEL, assert_one_line_error, database, ollama, ollama_answer, rows, run_cli


def write_config(home: Path, text: str) -> None:
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "config.toml").write_text(text, encoding="utf-8")


@pytest.mark.timeout(30)
@pytest.mark.parametrize("args, stdin", [(["ask", ""], b""), (["ask"], b""), (["ask"], b"  \n\t\n"), (["ask", "   "], b"")],
                         ids=["empty-argument", "nothing", "blank-stdin", "blank-argument"])
def test_empty_prompt(isolated_env: Path, args: list[str], stdin: bytes) -> None:
    proc = run_cli(isolated_env, args, stdin=stdin)
    assert proc.returncode == 2
    assert_one_line_error(proc, "prompt is empty")


@pytest.mark.timeout(30)
def test_invalid_utf8_on_stdin(isolated_env: Path) -> None:
    proc = run_cli(isolated_env, ["ask"], stdin=b"caf\xe9 au lait \xff\xfe")
    assert proc.returncode == 2
    assert_one_line_error(proc, "not valid utf-8", "iconv")
    assert not database(isolated_env).exists() or rows(database(isolated_env), "SELECT count(*) FROM messages") == [(0,)]


@pytest.mark.timeout(60)
def test_one_megabyte_prompt_is_answered_and_kept_whole(isolated_env: Path) -> None:
    prompt = ("The quick brown fox jumps over the lazy dog. " * 23_000)[:1_000_000]
    with ollama(ollama_answer(["Foxes", " jump."])) as server:
        proc = run_cli(isolated_env, ["ask", "-m", f"ollama:{MODEL}"], stdin=prompt.encode(), OLLAMA_HOST=server.url)
        sent = server.seen[-1].json()
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "Foxes jump.\n"
    assert sent["messages"][-1]["content"] == prompt  # type: ignore[index]
    assert rows(database(isolated_env), "SELECT length(content) FROM messages WHERE role = 'user'") == [(len(prompt),)]


@pytest.mark.timeout(60)
def test_one_megabyte_prompt_too_long_for_the_embedded_model(isolated_env: Path) -> None:
    prompt = "lorem ipsum dolor sit amet " * 38_000
    proc = run_cli(isolated_env, ["ask", "-m", "embedded:smollm2"], stdin=prompt.encode())
    assert proc.returncode == 1
    assert_one_line_error(proc, "too long for the embedded model", "context_size")


@pytest.mark.timeout(30)
@pytest.mark.parametrize("text, needle", [
    ("[general\npolicy = 'cheapest'\n", "Expected ']'"),
    ("[general]\npolicy = \n", "config.toml"),
    ("[general]\nbogus = 1\n", "unknown setting 'general.bogus'"),
    ("[generall]\npolicy = 'cheapest'\n", "unknown section '[generall]'"),
    ("[network]\nread_timeout = 'soon'\n", "'network.read_timeout' must be float"),
    ("[openai]\napi_key = 'sk-not-here'\n", "looks like a secret"),
], ids=["unclosed-table", "missing-value", "unknown-key", "unknown-section", "wrong-type", "secret-in-config"])
def test_bad_config_file(isolated_env: Path, text: str, needle: str) -> None:
    write_config(isolated_env, text)
    proc = run_cli(isolated_env, ["ask", "hello"])
    assert proc.returncode == 1
    line = assert_one_line_error(proc, needle)
    assert "sk-not-here" not in line


@pytest.mark.timeout(30)
@pytest.mark.parametrize("model, needle, code", [
    ("nosuch:model", "unknown provider 'nosuch'", 2),
    ("justaname", "is not a model name", 2),
    ("ollama:", "is not a model name", 2),
    ("embedded:gpt-7", "use -m embedded:smollm2", 1),
], ids=["unknown-provider", "no-colon", "no-model", "unknown-embedded-model"])
def test_unknown_model_name(isolated_env: Path, model: str, needle: str, code: int) -> None:
    proc = run_cli(isolated_env, ["ask", "-m", model, "hello"])
    assert proc.returncode == code
    assert_one_line_error(proc, needle)


@pytest.mark.timeout(30)
def test_unknown_ollama_model_says_how_to_pull_it(isolated_env: Path) -> None:
    with FakeOllama([MODEL]) as server:  # answers 404 "model not found", as Ollama does
        proc = run_cli(isolated_env, ["ask", "-m", "ollama:nosuch-model", "hello"], OLLAMA_HOST=server.url)
    assert proc.returncode == 1
    assert_one_line_error(proc, "assistant models pull nosuch-model")
