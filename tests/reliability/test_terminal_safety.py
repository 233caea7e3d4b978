"""Reliability 6: escape sequences from a model are shown, not obeyed, on a terminal; --json and pipes keep them exactly."""

from __future__ import annotations

import json
import os
import pty
import subprocess
from pathlib import Path

import pytest

from tests.conftest import PYTHON, cli_env
from tests.reliability.support import MODEL, ollama, ollama_answer, run_cli

TITLE = "\x1b]0;owned by the model\x07"
CLEAR = "\x1b[2J\x1b[H"
CLIPBOARD = "\x1b]52;c;cm0gLXJmIH4=\x1b\\"  # OSC 52: write "rm -rf ~" to the clipboard
PIECES = ["Here ", TITLE, "is ", CLEAR, "some ", CLIPBOARD, "text.", "\x07\x08\x9b31m"]
RAW = "".join(PIECES)


def _ask_on_a_terminal(home: Path, url: str, *extra: str) -> bytes:
    """Run `assistant ask` with stdout on a pseudo-terminal; return every byte the terminal received."""
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen([PYTHON, "-m", "assistant", "ask", "-m", f"ollama:{MODEL}", *extra, "hi"],
                                stdin=subprocess.DEVNULL, stdout=slave, stderr=subprocess.PIPE,
                                env=cli_env(home, OLLAMA_HOST=url))
        os.close(slave)
        slave = -1
        received = b""
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed its side
                break
            if not data:
                break
            received += data
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        assert b"Traceback" not in err
        return received
    finally:
        os.close(master)
        if slave >= 0:
            os.close(slave)


@pytest.mark.timeout(60)
def test_terminal_gets_visible_escapes_not_live_ones(isolated_env: Path) -> None:
    with ollama(ollama_answer(PIECES)) as server:
        shown = _ask_on_a_terminal(isolated_env, server.url)
    text = shown.decode("utf-8")
    assert "\x1b" not in text and "\x07" not in text and "\x08" not in text and "\x9b" not in text
    assert text.startswith("Here ") and "text." in text
    # Made visible, so the user can see the model tried something.
    assert "^[]0;owned by the model^G" in text and "^[[2J" in text and "^[]52;c;cm0gLXJmIH4=" in text


@pytest.mark.timeout(60)
def test_json_on_a_terminal_keeps_the_text_exactly(isolated_env: Path) -> None:
    with ollama(ollama_answer(PIECES)) as server:
        shown = _ask_on_a_terminal(isolated_env, server.url, "--json")
    assert json.loads(shown.decode("utf-8"))["text"] == RAW  # JSON escapes control characters itself


@pytest.mark.timeout(60)
def test_piped_output_keeps_the_text_exactly(isolated_env: Path) -> None:
    with ollama(ollama_answer(PIECES)) as server:
        proc = run_cli(isolated_env, ["ask", "-m", f"ollama:{MODEL}", "hi"], OLLAMA_HOST=server.url)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == RAW + "\n"
