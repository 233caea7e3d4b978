"""Start-up and memory: import times of the CLI and the TUI in fresh interpreters, and the CLI's RSS after one answer."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_IMPORT = """
import time
t = time.perf_counter()
{body}
print((time.perf_counter() - t) * 1000)
"""

# Everything `assistant ask` imports before it reads the prompt: the parser with every subcommand registered.
CLI_IMPORT = "from assistant.cli import build_parser\nbuild_parser()"
TUI_IMPORT = "import assistant.ui.app"

# Runs one answer through the real CLI entry point, then reports this process's resident set.
_ANSWER_RSS = """
import io, sys
from assistant.main import main
sys.stdout = io.StringIO()
code = main(["ask", "-m", sys.argv[1], "--max-tokens", "16", "Say hello."])
sys.stdout = sys.__stdout__
rss = [int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmRSS:")][0]
print(code, rss / 1024)
"""


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    root = str(Path(__file__).resolve().parents[2])
    env.update({"ASSISTANT_HOME": str(home), "PYTHONPATH": root + os.pathsep + env.get("PYTHONPATH", "")})
    env.update(extra)
    return env


def import_ms(body: str, runs: int = 5, env: dict[str, str] | None = None) -> float:
    """Median wall time of the imports in `body`, each run in a fresh interpreter (nothing cached in memory)."""
    times = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", _IMPORT.format(body=body)], capture_output=True, text=True,
                             check=True, timeout=60, env=env)
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(times)


def cli_answer_rss_mb(model: str, env: dict[str, str]) -> float:
    out = subprocess.run([sys.executable, "-c", _ANSWER_RSS, model], capture_output=True, text=True, timeout=120, env=env)
    fields = out.stdout.split()
    if out.returncode != 0 or len(fields) != 2 or fields[0] != "0":
        raise RuntimeError(f"`assistant ask -m {model}` failed: {out.stderr.strip()[-300:]}")
    return float(fields[1])


def first_token_s(env: dict[str, str]) -> float:
    """Seconds from launching `assistant ask` to the first byte of the answer on stdout."""
    cmd = [sys.executable, "-m", "assistant", "ask", "--no-cache", "--max-tokens", "4", "Say hello."]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    first = proc.stdout.read(1) if proc.stdout else b""
    took = time.perf_counter() - t0
    _, err = proc.communicate(timeout=120)
    if proc.returncode != 0 or not first:
        raise RuntimeError(f"`assistant ask` failed: {err.decode(errors='replace').strip()[-300:]}")
    return took


def offline_first_token(home: Path) -> dict[str, float]:
    """Embedded first token with no cloud configured, and with every cloud keyed but black-holed or refused."""
    closed = "http://127.0.0.1:9"
    plain = _env(home, OLLAMA_HOST=closed)
    with socket.create_server(("127.0.0.1", 0)) as hole:  # listens, never accepts: packets go nowhere
        dropped = f"http://127.0.0.1:{hole.getsockname()[1]}"
        offline = _env(home, OLLAMA_HOST=closed, OPENAI_BASE_URL=dropped + "/v1", GEMINI_BASE_URL=dropped,
                       ANTHROPIC_BASE_URL=closed, OPENAI_API_KEY="sk-bench-never-sent",
                       ANTHROPIC_API_KEY="sk-ant-bench-never-sent", GEMINI_API_KEY="bench-never-sent")
        first_token_s(plain)  # warm-up: the model file into the page cache, bytecode compiled
        return {"local_first_token_s": first_token_s(plain), "offline_first_token_s": first_token_s(offline)}


def run_process_bench(workdir: Path, runs: int = 5, embedded: bool = True) -> dict[str, float]:
    """Import times (median of `runs`) and CLI RSS after one answer from a loopback Ollama (and the embedded model)."""
    from assistant.bench.loopback import LoopbackOllama

    home = Path(tempfile.mkdtemp(prefix="home-", dir=workdir))
    figures = {"cli_import_ms": import_ms(CLI_IMPORT, runs, _env(home))}
    with LoopbackOllama(tokens=50) as server:
        env = _env(home, OLLAMA_HOST=server.url)
        figures["cli_rss_after_answer_mb"] = cli_answer_rss_mb(f"ollama:{server.model}", env)
        if embedded:
            figures["cli_rss_after_embedded_answer_mb"] = cli_answer_rss_mb("embedded:smollm2", env)
    if embedded:
        figures.update(offline_first_token(home))
    return figures


def run_tui_bench(workdir: Path, runs: int = 5, quiet: float = 1.5) -> dict[str, float]:
    """TUI import time; then our TUI and the minimal Textual app (Header, Input, Footer), alternated run by run
    under the same pty: first paint, stable screen, their ratio, and idle RSS."""
    from assistant.bench import startup as startup_bench

    home = Path(tempfile.mkdtemp(prefix="home-", dir=workdir))
    figures = {"tui_import_ms": import_ms(TUI_IMPORT, runs, _env(home))}
    env = _env(home, OLLAMA_HOST="http://127.0.0.1:9")
    # Each app's unmeasured warm-up run fills the page cache and creates the database and the UI state.
    measured = {f.name: f for f in startup_bench.measure_startup(
        startup_bench.default_commands(), runs=runs, quiet=quiet,
        env={"PYTHONPATH": env["PYTHONPATH"], "ASSISTANT_HOME": str(home), "OLLAMA_HOST": env["OLLAMA_HOST"]})}
    ours, minimal = measured["assistant"], measured["minimal"]
    figures["tui_first_paint_ms"] = ours.first_paint * 1000
    figures["tui_minimal_first_paint_ms"] = minimal.first_paint * 1000
    figures["tui_stable_screen_ms"] = ours.seconds * 1000
    figures["tui_minimal_stable_screen_ms"] = minimal.seconds * 1000
    figures["tui_stable_vs_minimal_ratio"] = ours.seconds / minimal.seconds
    figures["tui_first_frame_ratio"] = ours.first_paint / minimal.first_paint
    figures["tui_idle_rss_mb"] = ours.rss_mb
    figures["tui_minimal_idle_rss_mb"] = minimal.rss_mb
    figures["tui_idle_rss_ratio"] = ours.rss_mb / minimal.rss_mb
    return figures
