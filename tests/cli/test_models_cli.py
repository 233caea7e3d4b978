"""`assistant models pull | show | ps | unload | rm` against the fake Ollama; ctrl+c on a pull stops it cleanly."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest

from assistant.core.local_models import PullStatus
from assistant.core.units import bar
from assistant.main import main
from tests.conftest import PYTHON, cli_env
from tests.fakes.ollama import FakeOllama
from tests.reliability.support import assert_one_line_error


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeOllama:
    server = FakeOllama(models=["gemma3n:e2b"], capabilities=["completion"])  # as the recorded gemma3n said
    server.__enter__()
    monkeypatch.setenv("OLLAMA_HOST", server.url)
    yield server  # type: ignore[misc]
    server.__exit__()


def test_pull_prints_each_step_in_a_pipe_and_the_total_at_the_end(fake: FakeOllama, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "pull", "llama3.2"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "llama3.2:latest: pulling manifest"
    assert "llama3.2:latest: downloading layer 1 (2.0 GB so far)" in out
    assert any("% " in line and "of 2.0 GB" in line for line in out)  # a quarter-way line
    assert out[-1].startswith("Pulled llama3.2:latest (2.0 GB) in ")
    assert "llama3.2:latest" in fake.models


def test_the_progress_line_says_bytes_speed_and_time_left() -> None:
    status = PullStatus("m", "downloading", 2_100_000_000, 4_100_000_000, 38_200_000.0, 53.0, 2)
    assert status.progress_text() == " 51%  2.1 GB of 4.1 GB · 38.2 MB/s · 53 s left"
    assert bar(0.53, 24) == "█" * 12 + "▌" + "░" * 11 and len(bar(1.0, 24)) == len(bar(0.0, 24)) == 24


def test_show_ps_unload_and_rm(fake: FakeOllama, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "show", "gemma3n:e2b"]) == 0
    shown = capsys.readouterr().out
    for line in ("  family        gemma3n", "  parameters    4.5B", "  quantization  Q4_K_M",
                 "  context       32,768 tokens", "  capabilities  completion"):
        assert line in shown
    assert "  license       Gemma Terms of Use" in shown and "<start_of_turn>" in shown
    assert main(["models", "ps"]) == 0
    ps = capsys.readouterr().out.splitlines()
    assert ps[0].split() == ["NAME", "MEMORY", "ON", "GPU", "CONTEXT", "UNLOADS"]
    assert ps[1].split()[:5] == ["granite3.3:2b", "2.6", "GB", "100%", "4,096"]
    assert main(["models", "unload", "granite3.3:2b"]) == 0
    assert "Unloaded granite3.3:2b" in capsys.readouterr().out
    assert main(["models", "rm", "gemma3n:e2b", "--yes"]) == 0
    assert capsys.readouterr().out.strip() == "Removed gemma3n:e2b." and fake.models == []


def test_rm_asks_and_refuses_without_a_terminal(fake: FakeOllama, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "rm", "gemma3n:e2b"]) == 2
    assert "needs a yes: run it in a terminal, or add --yes" in capsys.readouterr().err
    assert main(["models", "rm", "nosuch", "--yes"]) == 2
    assert "There is no pulled model 'nosuch'" in capsys.readouterr().err
    assert fake.models == ["gemma3n:e2b"]


def test_errors_are_one_line(fake: FakeOllama, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "pull", "nosuch-model"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["assistant: The Ollama registry has no model 'nosuch-model:latest'; check the name at "
                   "https://ollama.com/library."]
    assert main(["models", "show", "bad name!"]) == 2
    assert "is not a valid Ollama model name" in capsys.readouterr().err


@pytest.mark.slow
def test_ctrl_c_stops_a_pull_cleanly_and_leaves_no_model(isolated_env: Path) -> None:
    with FakeOllama(models=[], line_delay=0.3, steps=40) as fake:
        proc = subprocess.Popen([PYTHON, "-m", "assistant", "models", "pull", "llama3.2"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=cli_env(isolated_env, OLLAMA_HOST=fake.url))
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:  # a pipe: one line per step, so the download has begun when this one comes
            lines.append(line)
            if "downloading layer 1" in line:
                break
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        for _ in range(100):  # the server notices the closed connection at its next write
            if fake.pulls:
                break
            time.sleep(0.05)
        stopped = subprocess.CompletedProcess(proc.args, proc.returncode, "".join(lines) + out, err)
    assert proc.returncode == 130
    line = assert_one_line_error(stopped, "Stopped pulling llama3.2:latest")
    assert "not usable until a pull completes" in line and "`assistant models pull llama3.2:latest` resumes" in line
    assert fake.pulls == [("llama3.2:latest", "abandoned")] and fake.models == []
