"""Reliability 5b: a home that is a file, a data folder that is a file, a read-only home, a missing one, and numbers
that are not numbers: each is one line saying what to fix (or, where it can, the app simply works)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.small_disk import small_disk
from tests.reliability.support import MODEL, assert_one_line_error, database, ollama, ollama_answer, run_cli

COMMANDS = [["history", "list"], ["ask", "-m", f"ollama:{MODEL}", "hi"], ["cache", "stats"], ["models"]]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("args", COMMANDS, ids=[" ".join(c[:2]) for c in COMMANDS])
def test_home_that_is_a_file(tmp_path: Path, args: list[str]) -> None:
    home = tmp_path / "home"
    home.write_text("not a folder", encoding="utf-8")
    proc = run_cli(home, args)
    line = assert_one_line_error(proc, f"{home} is a file", "ASSISTANT_HOME")
    assert "NotADirectoryError" not in line and "permissions" not in line


@pytest.mark.timeout(60)
@pytest.mark.parametrize("args", COMMANDS[:3], ids=[" ".join(c[:2]) for c in COMMANDS[:3]])
def test_data_folder_that_is_a_file(isolated_env: Path, args: list[str]) -> None:
    isolated_env.mkdir()
    (isolated_env / "data").write_text("not a folder", encoding="utf-8")
    proc = run_cli(isolated_env, args)
    assert_one_line_error(proc, f"{isolated_env / 'data'} is a file", "move the file away")


@pytest.mark.timeout(60)
def test_missing_home_is_created(tmp_path: Path) -> None:
    home = tmp_path / "not" / "there" / "yet"
    with ollama(ollama_answer(["Fine."])) as server:
        proc = run_cli(home, ["ask", "-m", f"ollama:{MODEL}", "hi"], OLLAMA_HOST=server.url)
    assert proc.returncode == 0 and proc.stdout == "Fine.\n", proc.stderr
    assert database(home).exists()


@pytest.mark.timeout(120)
@pytest.mark.slow
def test_read_only_home_reads_and_says_what_to_fix(tmp_path: Path) -> None:
    with small_disk(tmp_path, 4096) as disk, ollama(ollama_answer(["Fine", " thanks."])) as server:
        for i in range(3):
            assert disk.run(["ask", "-m", f"ollama:{MODEL}", f"question {i}"], OLLAMA_HOST=server.url).returncode == 0
        disk.make_read_only()
        listed = disk.run(["history", "list"])
        assert listed.returncode == 0 and len(listed.stdout.splitlines()) == 3, listed.stderr
        stats = disk.run(["cache", "stats"])
        assert stats.returncode == 0 and stats.stdout.startswith("entries    3 "), stats.stderr
        cached = disk.run(["ask", "-m", f"ollama:{MODEL}", "question 1"], OLLAMA_HOST=server.url)
        assert cached.returncode == 0 and cached.stdout == "Fine thanks.\n" and "not saved" in cached.stderr
        sent = len(server.seen)
        new = disk.run(["ask", "-m", f"ollama:{MODEL}", "a new question"], OLLAMA_HOST=server.url)
        assert_one_line_error(new, "read-only", "writable")
        assert len(server.seen) == sent  # nothing asked that could not be recorded
        renamed = disk.run(["history", "rename", listed.stdout.split()[0], "new title"])
        assert_one_line_error(renamed, "read-only")


@pytest.mark.timeout(120)
@pytest.mark.slow
def test_read_only_empty_home(tmp_path: Path) -> None:
    with small_disk(tmp_path, 1024) as disk:
        disk.make_read_only()
        proc = disk.run(["history", "list"])
    assert_one_line_error(proc, "cannot create the folder", "read-only file system", "ASSISTANT_HOME")


@pytest.mark.timeout(30)
@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "-1", "2.5"])
def test_temperature_that_is_not_in_range(isolated_env: Path, value: str) -> None:
    proc = run_cli(isolated_env, ["ask", f"--temperature={value}", "-m", f"ollama:{MODEL}", "hi"])
    assert proc.returncode == 2
    assert_one_line_error(proc, "temperature must be a number from 0 to 2")


@pytest.mark.timeout(30)
@pytest.mark.parametrize("value", ["nand", "infd", "-3d", "30"])
def test_cache_clear_age_that_is_not_an_age(isolated_env: Path, value: str) -> None:
    proc = run_cli(isolated_env, ["cache", "clear", f"--older-than={value}"])
    assert proc.returncode == 2
    assert_one_line_error(proc, "is not an age", "30d")
