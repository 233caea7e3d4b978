"""`assistant keys set|list|delete`: hidden or piped input, last four only, a clear refusal without a keyring."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest

from assistant.main import main
from tests.conftest import PYTHON, cli_env
from tests.fakes.cloud import KEY as CLOUD_KEY
from tests.fakes.memory_keyring import MemoryKeyring, memory_keyring, real_keyring, secret_service  # noqa: F401  (fixtures)
from tests.fakes.openai import FakeOpenAI

KEY = "sk-ant-api03-Hidden7Vb3Nq8Rt1Zx6Pw2"


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_set_from_a_pipe_list_and_delete(memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(KEY + "\n"))
    assert main(["keys", "set", "anthropic"]) == 0
    assert memory_keyring.store[("assistant", "anthropic")] == KEY
    assert main(["keys", "list"]) == 0
    out, err = capsys.readouterr()
    listed = {line.split()[0]: line for line in out.splitlines()}
    assert KEY[-4:] in listed["anthropic"] and "keyring" in listed["anthropic"]
    assert "not set" in listed["openai"] and "OPENAI_API_KEY" in listed["openai"]
    assert KEY not in out + err
    assert main(["keys", "delete", "anthropic"]) == 0
    assert memory_keyring.store == {}
    assert main(["keys", "delete", "anthropic"]) == 2  # nothing left to delete: a usage error, one line
    assert "no anthropic key" in capsys.readouterr().err


def test_set_from_a_terminal_uses_a_hidden_prompt(memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch) -> None:
    prompts: list[str] = []
    monkeypatch.setattr("sys.stdin", _Tty(""))
    monkeypatch.setattr("getpass.getpass", lambda prompt="": prompts.append(prompt) or KEY)
    assert main(["keys", "set", "openai"]) == 0
    assert prompts == ["openai API key (input hidden): "]
    assert memory_keyring.store[("assistant", "openai")] == KEY


def test_environment_keys_are_listed_with_their_source(memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GOOGLE_API_KEY", KEY)
    assert main(["keys", "list"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("gemini"))
    assert "environment (GOOGLE_API_KEY)" in line and KEY[-4:] in line and KEY not in line


def test_without_a_keyring_set_refuses_before_asking(isolated_env: Path) -> None:
    done = subprocess.run([PYTHON, "-m", "assistant", "keys", "set", "openai"], input=KEY + "\n", env=cli_env(isolated_env),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "No OS keyring" in done.stderr and "OPENAI_API_KEY" in done.stderr
    assert KEY not in done.stdout + done.stderr
    files = [p for p in isolated_env.rglob("*") if p.is_file()] if isolated_env.exists() else []
    assert not any(KEY.encode() in p.read_bytes() for p in files)


@pytest.mark.keyring
def test_real_keyring_key_is_used_by_ask(real_keyring: object, isolated_env: Path) -> None:
    env = cli_env(isolated_env)
    env.pop("PYTHON_KEYRING_BACKEND")
    run = lambda *args, **kw: subprocess.run([PYTHON, "-m", "assistant", *args], env={**env, **kw.pop("env", {})},  # noqa: E731
                                              capture_output=True, text=True, timeout=60, **kw)
    stored = run("keys", "set", "openai", input=CLOUD_KEY + "\n")
    assert stored.returncode == 0, stored.stderr
    listed = run("keys", "list")
    assert "keyring" in listed.stdout and CLOUD_KEY[-4:] in listed.stdout and CLOUD_KEY not in listed.stdout
    with FakeOpenAI() as server:
        asked = run("ask", "-m", "openai:gpt-4o-mini", "--json", "Capital of France?", env={"OPENAI_BASE_URL": server.base_url})
    assert asked.returncode == 0, asked.stderr
    assert server.seen[0].headers["authorization"] == f"Bearer {CLOUD_KEY}"
    removed = run("keys", "delete", "openai")
    assert removed.returncode == 0 and "not set" in run("keys", "list").stdout.splitlines()[0]
