"""Reliability 3b: bytes flipped inside a 2.6 MB database, 12 variants across the file: every variant that damaged it
is caught by the next command before anything is written into it, kept aside byte for byte, and what can be read is
copied into the fresh database; a variant that damaged nothing changes nothing."""

from __future__ import annotations

import random
import re
import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.reliability.support import MODEL, database, ollama, ollama_answer, rows, run_cli

pytestmark = pytest.mark.slow  # subprocesses, real models or builds: outside the quick loop

VARIANTS = 12
FLIPS = 16
CONVERSATIONS = 2000  # about 2.6 MB with their search index


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A history written and closed the way the app does (so its seal of a clean close sits beside it)."""
    from assistant.bench.storage_bench import populate
    from assistant.storage.db import Database, open_database

    db = tmp_path_factory.mktemp("pristine") / "assistant.db"
    store = Database(open_database(db).conn, db)
    populate(store.conn, CONVERSATIONS, random.Random(7))
    store.close()
    assert 2_400_000 < db.stat().st_size < 3_000_000
    return db


def _flip(db: Path, variant: int) -> bytes:
    """Invert FLIPS bytes at random places in one twelfth of the file (never the 100-byte header)."""
    data = bytearray(db.read_bytes())
    rng = random.Random(variant)
    low, high = max(100, len(data) * variant // VARIANTS), len(data) * (variant + 1) // VARIANTS
    for _ in range(FLIPS):
        data[rng.randrange(low, high)] ^= 0xFF
    db.write_bytes(bytes(data))
    return bytes(data)


def _sound(db: Path) -> bool:
    conn = sqlite3.connect(db)
    conn.text_factory = bytes  # the report may quote damaged names that are not UTF-8
    try:
        return [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()] == [b"ok"]
    except (sqlite3.DatabaseError, UnicodeDecodeError):  # an error message may quote damaged, non-UTF-8 names
        return False
    finally:
        conn.close()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("variant", range(VARIANTS))
def test_flipped_bytes_are_caught_before_anything_is_written(isolated_env: Path, pristine: Path, variant: int) -> None:
    db = database(isolated_env)
    db.parent.mkdir(parents=True)
    for source in pristine.parent.iterdir():
        shutil.copy2(source, db.parent / source.name)  # the seal too, time stamps kept
    damaged = _flip(db, variant)
    sound = _sound(db)

    with ollama(ollama_answer(["Fine", " thanks."])) as server:
        asked = run_cli(isolated_env, ["ask", "-m", f"ollama:{MODEL}", "after the flip"], OLLAMA_HOST=server.url)
    listed = run_cli(isolated_env, ["history", "list", "-n", "5"])
    stats = run_cli(isolated_env, ["cache", "stats"])
    for proc in (asked, listed, stats):
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert asked.stdout == "Fine thanks.\n"
    kept = sorted(p for p in db.parent.iterdir() if p.name.startswith("assistant.db.corrupt-"))
    if sound:  # the flips landed where nothing is read (free space): nothing to report, nothing moved
        assert kept == [] and "damaged" not in asked.stderr
        assert rows(db, "SELECT count(*) FROM conversations") == [(CONVERSATIONS + 1,)]
        return
    match = re.search(r"kept as (\S+) and a fresh one was started \((\d+) conversations? and (\d+) messages? copied"
                      r"|kept as (\S+) and a fresh one was started \(nothing could be read", asked.stderr)
    assert match, asked.stderr
    aside = Path(match.group(1) or match.group(4))
    assert aside.read_bytes() == damaged  # caught before anything was written into it
    assert _sound(db)
    copied = int(match.group(3) or 0)
    assert rows(db, "SELECT count(*) FROM messages") == [(copied + 2,)]
    assert rows(db, "SELECT content FROM messages WHERE role = 'user' ORDER BY id DESC LIMIT 1") == [("after the flip",)]
    # The later commands announce the copy until the user acts.
    assert "still kept at" in listed.stderr and "still kept at" in stats.stderr
    conversations = rows(db, "SELECT count(*) FROM conversations")[0][0]
    assert len(listed.stdout.splitlines()) == min(5, conversations)
    if copied:  # the copied history is listed beside the new question
        assert conversations > 1
