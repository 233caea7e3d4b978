"""`assistant models` with several Ollama hosts, as a user runs it: models grouped under each host."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.conftest import PYTHON, cli_env
from tests.fakes.ollama import FakeOllama


def test_models_are_grouped_by_host(isolated_env: Path) -> None:
    with FakeOllama(models=["llama3.2:latest", "qwen3:latest"]) as a, FakeOllama(models=["llama3.2:latest"]) as b:
        config = isolated_env / "config"
        config.mkdir(parents=True)
        hosts = json.dumps([a.url, b.url, "http://127.0.0.1:9"])
        (config / "config.toml").write_text(f"[ollama]\nhosts = {hosts}\n", encoding="utf-8")
        env = cli_env(isolated_env)
        done = subprocess.run([PYTHON, "-m", "assistant", "models"], capture_output=True, text=True, env=env, timeout=120)
        as_json = subprocess.run([PYTHON, "-m", "assistant", "models", "--json"], capture_output=True, text=True,
                                 env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    start = lines.index("ollama")
    block = lines[start + 1:start + 8]
    assert block[0].startswith(f"  @ 127.0.0.1:{a.port} · up")
    assert block[1].startswith("    ✓ ollama:llama3.2:latest") and block[2].startswith("    ✓ ollama:qwen3:latest")
    assert block[3].startswith(f"  @ 127.0.0.1:{b.port} · up") and block[4].startswith("    ✓ ollama:llama3.2:latest")
    assert block[5] == "  @ 127.0.0.1:9 · down" and block[6].startswith("    ✗ ollama:llama3.2")
    listed = json.loads(as_json.stdout)["ollama"]
    assert [m["where"].split(" · ")[0] for m in listed] == [f"127.0.0.1:{a.port}"] * 2 + [f"127.0.0.1:{b.port}",
                                                                                          "127.0.0.1:9"]
