"""Reliability 9: a full disk (a real 3 MB tmpfs) never costs history: reads keep working, a write that cannot happen
is one line about the disk (never blamed on a provider), nothing is moved aside, and freeing space loses nothing."""

from __future__ import annotations

import os
import select
import subprocess
import time
from pathlib import Path

import pytest

from tests.reliability.small_disk import SmallDisk, small_disk
from tests.reliability.support import MODEL, assert_one_line_error, ollama, ollama_answer

pytestmark = pytest.mark.slow  # subprocesses, real models or builds: outside the quick loop

SIZE_KB = 3072
FILES = ["assistant.db", "assistant.db.checked"]


def _history(disk: SmallDisk, url: str, count: int) -> None:
    for i in range(count):
        asked = disk.run(["ask", "-m", f"ollama:{MODEL}", f"question {i}"], OLLAMA_HOST=url)
        assert asked.returncode == 0, asked.stderr


@pytest.mark.timeout(120)
def test_full_disk_reads_keep_working_and_nothing_is_lost(tmp_path: Path) -> None:
    with small_disk(tmp_path, SIZE_KB) as disk, ollama(ollama_answer(["Fine", " thanks."])) as server:
        _history(disk, server.url, 5)
        assert disk.files() == FILES
        assert disk.fill() > 0

        listed = disk.run(["history", "list"])
        assert listed.returncode == 0, listed.stderr
        assert [line.split()[-1] for line in listed.stdout.splitlines()] == [f"{i}" for i in range(4, -1, -1)]
        cid = listed.stdout.split()[0]
        shown = disk.run(["history", "show", cid])
        assert shown.returncode == 0 and "Fine thanks." in shown.stdout, shown.stderr
        found = disk.run(["history", "search", "question"])
        assert found.returncode == 0 and found.stdout.count(cid) == 1, found.stderr
        stats = disk.run(["cache", "stats"])
        assert stats.returncode == 0 and stats.stdout.startswith("entries    5 "), stats.stderr

        # A question asked before is answered from the cache, read-only, and says it was not saved.
        cached = disk.run(["ask", "-m", f"ollama:{MODEL}", "question 3"], OLLAMA_HOST=server.url)
        assert cached.returncode == 0, cached.stderr
        assert cached.stdout == "Fine thanks.\n" and "not saved" in cached.stderr and "disk is full" in cached.stderr
        # A new one cannot be recorded: one line about the disk, and nothing is sent to any model.
        sent = len(server.seen)
        new = disk.run(["ask", "-m", f"ollama:{MODEL}", "a new question"], OLLAMA_HOST=server.url)
        line = assert_one_line_error(new, "disk is full", "free some space")
        assert "provider" not in line and "ollama" not in line.lower()
        assert len(server.seen) == sent
        assert disk.files() == FILES or disk.files() == [*FILES[:1], "assistant.db-shm", "assistant.db-wal", FILES[1]]

        disk.free()
        again = disk.run(["history", "list"])
        assert again.returncode == 0 and again.stdout == listed.stdout and again.stderr == ""
        assert disk.query("PRAGMA integrity_check") == [("ok",)]
        assert disk.query("SELECT count(*) FROM messages") == [(10,)]
        assert not [name for name in disk.files() if "corrupt" in name]


def _read_some(proc: subprocess.Popen[bytes], size: int, seconds: float) -> bytes:
    assert proc.stdout is not None
    seen, deadline = b"", time.monotonic() + seconds
    while len(seen) < size and time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.1)
        if ready:
            seen += os.read(proc.stdout.fileno(), 65536)
    return seen


@pytest.mark.timeout(240)
def test_disk_full_mid_answer_is_a_storage_warning_and_keeps_what_was_saved(tmp_path: Path) -> None:
    pieces = [f"word{i} " for i in range(300)]
    with small_disk(tmp_path, SIZE_KB) as disk, ollama(ollama_answer(pieces, delay=0.01)) as server:
        _history(disk, server.url, 1)
        argv, env = disk.command(["ask", "-m", f"ollama:{MODEL}", "a long answer please"], OLLAMA_HOST=server.url)
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        first = _read_some(proc, 40, 120)
        assert len(first) >= 40, first  # the question is saved and the answer is streaming
        disk.fill()
        rest, err = proc.communicate(timeout=60)
        stderr = err.decode()
        assert proc.returncode == 0, stderr  # the answer itself arrived and was shown whole
        assert (first + rest).decode() == "".join(pieces) + "\n"
        warnings = [line for line in stderr.splitlines() if line.startswith("assistant: ")]
        assert len(warnings) == 1 and "disk is full" in warnings[0] and "not saved" in warnings[0], stderr
        assert "failed" not in stderr and "provider" not in stderr

        disk.free()
        later = disk.run(["history", "show", "--json", "x"])  # any command: start-up settles the cut answer
        assert "Traceback" not in later.stderr
        kept = disk.query("SELECT content, status FROM messages WHERE role = 'assistant' ORDER BY id DESC LIMIT 1")
        text, status = kept[0]
        assert status == "interrupted" and str(text) and "".join(pieces).startswith(str(text))
        assert disk.query("SELECT content FROM messages WHERE role = 'user' ORDER BY id DESC LIMIT 1") == [
            ("a long answer please",)]
        assert disk.query("PRAGMA integrity_check") == [("ok",)]
        assert not [name for name in disk.files() if "corrupt" in name]
