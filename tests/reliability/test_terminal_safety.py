"""Reliability 6: escape sequences from a model are shown, not obeyed, on a terminal; --json and pipes keep them exactly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.reliability.support import MODEL, ollama, ollama_answer, on_a_terminal, run_cli

TITLE = "\x1b]0;owned by the model\x07"
CLEAR = "\x1b[2J\x1b[H"
CLIPBOARD = "\x1b]52;c;cm0gLXJmIH4=\x1b\\"  # OSC 52: write "rm -rf ~" to the clipboard
PIECES = ["Here ", TITLE, "is ", CLEAR, "some ", CLIPBOARD, "text.", "\x07\x08\x9b31m"]
RAW = "".join(PIECES)


def _ask_on_a_terminal(home: Path, url: str, *extra: str) -> bytes:
    """Run `assistant ask` with stdout on a pseudo-terminal; return every byte the terminal received."""
    shown, err, code = on_a_terminal(home, ["ask", "-m", f"ollama:{MODEL}", *extra, "hi"], stderr_too=False,
                                     OLLAMA_HOST=url)
    assert code == 0, err
    assert b"Traceback" not in err
    return shown


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
