"""Launch-to-stable-screen time and idle memory of the TUI against a minimal Textual app, each under a pty."""

from __future__ import annotations

import fcntl
import os
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# The yardstick: one Header, one Input, one Footer.
MINIMAL_APP = """
from textual.app import App
from textual.widgets import Footer, Header, Input

class Minimal(App):
    def compose(self):
        yield Header()
        yield Input()
        yield Footer()

Minimal().run()
"""
# Mode switches and queries at start-up are shorter than this; every write that draws cells is longer.
PAINT_BYTES = 200


@dataclass(frozen=True)
class StartupFigures:
    name: str
    seconds: float  # median time from spawn to the last paint before the screen stays quiet
    rss_mb: float  # median resident memory once the screen is stable
    first_paint: float  # median time from spawn to the first drawn screen (when typing becomes possible)
    runs: tuple[float, ...]

    def as_json(self) -> dict[str, object]:
        return {"name": self.name, "seconds": round(self.seconds, 3), "first_paint": round(self.first_paint, 3),
                "rss_mb": round(self.rss_mb, 1), "runs": [round(r, 3) for r in self.runs]}


def default_commands() -> dict[str, list[str]]:
    return {"minimal": [sys.executable, "-c", MINIMAL_APP], "assistant": [sys.executable, "-m", "assistant"]}


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def run_once(argv: Sequence[str], env: Mapping[str, str], size: tuple[int, int] = (120, 40),
             quiet: float = 1.5, timeout: float = 30.0) -> tuple[float, float, float]:
    """Spawn under a pty of `size`; return (seconds to the last change before `quiet` s of calm, RSS MB then,
    seconds to the first paint).

    A cursor blink repeats the same two writes forever, so a write whose bytes recur is not a change;
    `quiet` must exceed two blink periods (2 x 0.5 s): the second write of a blink is unique until it recurs one
    full cycle later, and a shorter quiet would take it for the last change (or never settle).
    """
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
    start = time.perf_counter()
    proc = subprocess.Popen(list(argv), stdin=slave, stdout=slave, stderr=slave, env=dict(env), start_new_session=True,
                            preexec_fn=_die_with_parent)
    os.close(slave)
    seen: dict[bytes, list[float]] = {}
    rss = float("nan")
    try:
        while time.perf_counter() - start < timeout:
            ready, _, _ = select.select([master], [], [], 0.05)
            now = time.perf_counter()
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:
                    break
                if not data:
                    break
                seen.setdefault(data, []).append(now)
            stable = _last_change(seen)
            if stable is not None and now - stable >= quiet:
                rss = _rss_mb(proc.pid)
                break
            if proc.poll() is not None:
                break
    finally:
        _stop(proc, master)
    stable = _last_change(seen)
    if stable is None:
        raise RuntimeError(f"{argv[-1]} drew nothing within {timeout:.0f}s")
    first = min((stamps[0] for data, stamps in seen.items() if len(data) >= PAINT_BYTES), default=stable)
    return stable - start, rss, first - start


def _die_with_parent() -> None:
    """Linux: the app gets SIGKILL if the bench itself is killed, so no measured app outlives it."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: _stop still ends every run
        pass


def _last_change(seen: Mapping[bytes, list[float]]) -> float | None:
    """When the screen last changed: the latest write whose bytes were written once only and look like a paint."""
    times = [stamps[0] for data, stamps in seen.items() if len(stamps) == 1 and len(data) >= PAINT_BYTES // 2]
    return max(times) if times else None


def _stop(proc: subprocess.Popen[bytes], master: int) -> None:
    """Never leaves the measured app running: ctrl+q first (it restores the terminal), then SIGKILL to its session."""
    try:
        if proc.poll() is None:
            try:
                os.write(master, b"\x11")
                proc.wait(timeout=3)
            except (OSError, subprocess.TimeoutExpired):
                pass
    finally:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # start_new_session: its process group is its pid
            except ProcessLookupError:
                pass
            proc.wait()
        os.close(master)


def measure_startup(commands: Mapping[str, Sequence[str]] | None = None, *, runs: int = 5,
                    size: tuple[int, int] = (120, 40), env: Mapping[str, str] | None = None,
                    quiet: float = 1.5) -> list[StartupFigures]:
    """Alternate the commands run by run (fair under load), after one unmeasured warm-up each."""
    commands = dict(commands or default_commands())
    home = (env or {}).get("ASSISTANT_HOME") or tempfile.mkdtemp(prefix="assistant-bench-")
    base = {**os.environ, "TERM": os.environ.get("TERM", "xterm-256color"), "ASSISTANT_HOME": home,
            "OLLAMA_HOST": os.environ.get("OLLAMA_HOST", "http://127.0.0.1:9"), **(env or {})}
    times: dict[str, list[float]] = {name: [] for name in commands}
    memory: dict[str, list[float]] = {name: [] for name in commands}
    firsts: dict[str, list[float]] = {name: [] for name in commands}
    for n in range(runs + 1):
        for name, argv in commands.items():
            seconds, rss, first = run_once(argv, base, size, quiet)
            if n:  # the first round fills the page cache and creates the database
                times[name].append(seconds)
                memory[name].append(rss)
                firsts[name].append(first)
    return [StartupFigures(name, statistics.median(times[name]), statistics.median(memory[name]),
                           statistics.median(firsts[name]), tuple(times[name])) for name in commands]


def main() -> int:
    import json

    figures = measure_startup(runs=int(os.environ.get("BENCH_RUNS", "5")))
    by_name = {f.name: f for f in figures}
    ratio = by_name["assistant"].seconds / by_name["minimal"].seconds
    paint_ratio = by_name["assistant"].first_paint / by_name["minimal"].first_paint
    print(json.dumps({"figures": [f.as_json() for f in figures], "stable_ratio": round(ratio, 2),
                      "first_paint_ratio": round(paint_ratio, 2)}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
