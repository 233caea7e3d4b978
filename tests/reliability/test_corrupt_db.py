"""Reliability 3: a truncated or overwritten database is kept aside, a fresh one is started, and the user is told where."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.reliability.support import MODEL, database, ollama, ollama_answer, rows, run_cli

pytestmark = pytest.mark.slow  # subprocesses, real models or builds: outside the quick loop


def truncate_half(db: Path) -> None:
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 2])


def truncate_to_header(db: Path) -> None:
    db.write_bytes(db.read_bytes()[:100])


def overwrite_garbage(db: Path) -> None:
    db.write_bytes(b"this is not a database\n" * 2000)


def overwrite_pages(db: Path) -> None:
    """Valid header, scribbled-over schema and data pages: the kind of damage a bad disk or a stray write leaves."""
    data = bytearray(db.read_bytes())
    for start in range(100, len(data), 512):
        data[start:start + 256] = b"\xa5" * 256
    db.write_bytes(bytes(data))


DAMAGE: dict[str, Callable[[Path], None]] = {
    "truncated-half": truncate_half, "truncated-header": truncate_to_header,
    "overwritten-garbage": overwrite_garbage, "overwritten-pages": overwrite_pages,
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damaged_database_is_kept_aside_and_user_told(isolated_env: Path, damage: str) -> None:
    home = isolated_env
    with ollama(ollama_answer(["Fine", " thanks."])) as server:
        for i in range(2):
            first = run_cli(home, ["ask", "-m", f"ollama:{MODEL}", f"before {i}"], OLLAMA_HOST=server.url)
            assert first.returncode == 0, first.stderr
        db = database(home)
        assert not db.with_name(db.name + "-wal").exists() or db.with_name(db.name + "-wal").stat().st_size == 0
        DAMAGE[damage](db)
        damaged = db.read_bytes()

        after = run_cli(home, ["ask", "-m", f"ollama:{MODEL}", "after the damage"], OLLAMA_HOST=server.url)
        again = run_cli(home, ["ask", "-m", f"ollama:{MODEL}", "and again"], OLLAMA_HOST=server.url)
    assert after.returncode == 0, after.stderr
    assert after.stdout == "Fine thanks.\n"
    assert "Traceback" not in after.stderr
    match = re.search(r"kept as (\S+?) and a fresh one was started", after.stderr)
    assert match, after.stderr
    kept = Path(match.group(1))
    assert kept.exists() and kept.parent == db.parent and kept.name.startswith("assistant.db.corrupt-")
    assert kept.read_bytes() == damaged  # the damaged file itself, untouched, for the user to rescue from
    assert rows(db, "PRAGMA integrity_check") == [("ok",)]
    assert rows(db, "SELECT content FROM messages WHERE role = 'user'") == [("after the damage",), ("and again",)]
    assert again.returncode == 0 and "damaged" not in again.stderr  # told once, not on every start


@pytest.mark.timeout(60)
async def test_tui_start_up_tells_where_the_damaged_database_went(isolated_env: Path) -> None:
    """The TUI opens the database through the same path as the CLI and shows the same notice in the chat."""
    from assistant.compose import load
    from assistant.ui.app import make_app

    setup = load()
    paths = setup.paths
    paths.database.parent.mkdir(parents=True)
    overwrite_garbage(paths.database)
    app = make_app(setup)  # no engine factory: the real start-up path
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(300):
            await pilot.pause(0.02)
            if app.engine is not None:
                break
        await pilot.pause()
        notices = [str(n.render()) for n in app.chat.log_view.query(".notice")]
        await app.workers.wait_for_complete()
    kept = sorted(paths.database.parent.glob("assistant.db.corrupt-*"))
    assert len(kept) == 1
    assert any(str(kept[0]) in n and "fresh one was started" in n for n in notices), notices


@pytest.mark.timeout(60)
def test_damage_deep_in_a_large_file_found_later_is_one_clear_line(isolated_env: Path) -> None:
    """Pages scribbled over mid-file pass start-up's checks; the first read of them must still end in one line."""
    import random

    from assistant.bench.storage_bench import populate
    from assistant.storage.db import open_database

    db = database(isolated_env)
    conn = open_database(db).conn
    populate(conn, 3000, random.Random(1))
    conn.close()
    data = bytearray(db.read_bytes())
    for start in range(len(data) // 4, 3 * len(data) // 4, 4096):
        data[start + 100:start + 400] = b"\x5a" * 300
    db.write_bytes(bytes(data))

    proc = run_cli(isolated_env, ["history", "search", "python"])
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and "unexpected" not in proc.stderr
    line = proc.stderr.strip()
    assert line.count("\n") == 0 and "is damaged" in line and f"mv {db} " in line
