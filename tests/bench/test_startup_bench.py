"""The start-up bench: the minimal app settles under a pty despite its blinking cursor; no measured app outlives a run."""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

import pytest

from assistant.bench import startup as startup_bench

pytestmark = pytest.mark.slow  # subprocesses, real models or builds: outside the quick loop

# Draws nothing, ignores ctrl+q and SIGTERM: only SIGKILL ends it.
_STUBBORN = """
import os, signal, sys, time

signal.signal(signal.SIGTERM, signal.SIG_IGN)
open(sys.argv[1], "w").write(str(os.getpid()))
time.sleep(60)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.timeout(30)
def test_an_app_that_ignores_quit_is_killed(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    with pytest.raises(RuntimeError, match="drew nothing"):
        startup_bench.run_once([sys.executable, "-c", _STUBBORN, str(pid_file)], dict(os.environ), timeout=1.0)
    assert not _alive(int(pid_file.read_text()))


@pytest.mark.timeout(60)
def test_minimal_app_settles_despite_its_blinking_cursor(tmp_path: Path) -> None:
    env = {**os.environ, "TERM": "xterm-256color", "ASSISTANT_HOME": str(tmp_path)}
    stable, rss, first = startup_bench.run_once(startup_bench.default_commands()["minimal"], env)
    # It settled (RSS is read only then) on a paint, not on a cursor blink a second or more later.
    assert math.isfinite(rss) and 0 < first <= stable < first + 1.0
