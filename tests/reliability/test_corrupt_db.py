"""Reliability 3: a damaged database is kept aside with what can be read copied into a fresh one, and the user is told
where it is and how to recover more, at every start until they act."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.reliability.support import MODEL, assert_one_line_error, database, ollama, ollama_answer, rows, run_cli

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
    match = re.search(r"kept as (\S+?) and a fresh one was started \((\d+) conversations? and (\d+) messages? copied"
                      r"|kept as (\S+?) and a fresh one was started \(nothing could be read", after.stderr)
    assert match, after.stderr
    kept = Path(match.group(1) or match.group(4))
    assert kept.exists() and kept.parent == db.parent and kept.name.startswith("assistant.db.corrupt-")
    assert kept.read_bytes() == damaged  # the damaged file itself, untouched, for the user to rescue from
    assert f"assistant db recover {kept}" in after.stderr
    assert rows(db, "PRAGMA integrity_check") == [("ok",)]
    asked = [r[0] for r in rows(db, "SELECT content FROM messages WHERE role = 'user' ORDER BY id")]
    assert asked[-2:] == ["after the damage", "and again"]
    assert set(asked[:-2]) <= {"before 0", "before 1"}  # whatever could still be read, and nothing else
    copied = int(match.group(3)) if match.group(3) else 0
    assert len(rows(db, "SELECT id FROM messages")) == copied + 4
    # Said again at every start until the user acts, with where the file is and how to recover from it.
    assert again.returncode == 0 and f"still kept at {kept}" in again.stderr, again.stderr
    assert f"assistant db recover {kept}" in again.stderr

    # These four leave not even the list of tables readable: `db recover` says so, points at sqlite3, and the file
    # stays announced until the user deletes it.
    recovered = run_cli(home, ["db", "recover", str(kept)])
    assert recovered.returncode == 1 and ".recover" in recovered.stderr
    assert "still kept" in run_cli(home, ["history", "list"]).stderr
    for path in db.parent.glob(kept.name + "*"):
        path.unlink()
    assert "kept" not in run_cli(home, ["history", "list"]).stderr


@pytest.mark.timeout(60)
def test_recover_copies_what_can_be_read_and_stops_the_notice(isolated_env: Path) -> None:
    home = isolated_env
    with ollama(ollama_answer(["Fine", " thanks."])) as server:
        for i in range(3):
            assert run_cli(home, ["ask", "-m", f"ollama:{MODEL}", f"before {i}"], OLLAMA_HOST=server.url).returncode == 0
        db = database(home)
        # An intact copy of the file, as a backup or `sqlite3 .recover` would give back.
        backup = home / "backup.db"
        shutil.copyfile(db, backup)
        overwrite_garbage(db)  # nothing readable: the automatic copy at start-up finds nothing
        run_cli(home, ["history", "list"])
    kept = next(p for p in db.parent.iterdir() if p.name.startswith("assistant.db.corrupt-") and "-" not in p.name[-4:])
    listed = run_cli(home, ["history", "list"])
    assert "still kept at" in listed.stderr and "No conversations yet" in listed.stdout

    recovered = run_cli(home, ["db", "recover", str(backup)])
    assert recovered.returncode == 0, recovered.stderr
    assert "3 conversations and 6 messages copied" in recovered.stdout
    again = run_cli(home, ["db", "recover", str(backup)])
    assert "nothing new to copy" in again.stdout  # recovering twice never duplicates
    assert [r[0] for r in rows(db, "SELECT title FROM conversations ORDER BY created_at")] == [
        "before 0", "before 1", "before 2"]
    assert rows(db, "SELECT count(*) FROM calls WHERE outcome = 'ok'") == [(3,)]

    unreadable = run_cli(home, ["db", "recover", str(kept)])
    assert unreadable.returncode == 1 and "sqlite3" in unreadable.stderr and ".recover" in unreadable.stderr
    fine = run_cli(home, ["db", "check"])
    assert fine.returncode == 0 and str(kept) in fine.stdout  # still kept: nothing was recovered from it


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


MARKER = "Marker-Of-The-Damaged-Page"


def _large_history(db: Path) -> None:
    """3,000 conversations written and closed the way the app does (which leaves the seal of a clean close); one
    answer in the middle carries a marker, so the test can find the page it is stored on."""
    import random

    from assistant.bench.storage_bench import populate
    from assistant.storage.db import Database, open_database

    store = Database(open_database(db).conn, db)
    populate(store.conn, 3000, random.Random(1))
    store.conn.execute("UPDATE messages SET content = content || ? WHERE id = 3001", (f" {MARKER}",))
    store.close()


def _scribble_middle(db: Path, keep_time: bool) -> bytes:
    """Overwrite the header of the page holding the marked answer, deep in the middle of the file."""
    st = db.stat()
    data = bytearray(db.read_bytes())
    page = data.index(MARKER.encode()) // 4096 * 4096
    assert len(data) // 4 < page < 3 * len(data) // 4
    data[page:page + 64] = b"\x5a" * 64
    db.write_bytes(bytes(data))
    if keep_time:  # the disk itself went bad: same size, same time stamp, nothing says the file changed
        os.utime(db, ns=(st.st_atime_ns, st.st_mtime_ns))
    return bytes(data)


@pytest.mark.timeout(60)
def test_damage_deep_in_a_large_file_is_caught_at_start(isolated_env: Path) -> None:
    """Pages scribbled over mid-file by something else: the next start checks the file, keeps it aside and
    copies what can be read, before anything is written into it."""
    db = database(isolated_env)
    _large_history(db)
    damaged = _scribble_middle(db, keep_time=False)

    proc = run_cli(isolated_env, ["history", "search", "python"])
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "kept as" in proc.stderr
    kept = Path(re.search(r"kept as (\S+) and", proc.stderr).group(1))  # type: ignore[union-attr]
    assert kept.read_bytes() == damaged
    copied = rows(db, "SELECT count(*) FROM messages")[0][0]
    assert 0 < copied < 6000  # the readable part, with its search index rebuilt
    assert proc.stdout.count("\n    ") >= 1
    assert rows(db, "PRAGMA integrity_check") == [("ok",)]
    # Recovering again finds nothing new (it was copied at start-up); the copy is then no longer announced.
    again = run_cli(isolated_env, ["db", "recover", str(kept)])
    assert again.returncode == 0 and "nothing new to copy" in again.stdout and "no longer announced" in again.stdout
    assert rows(db, "SELECT count(*) FROM messages")[0][0] == copied
    later = run_cli(isolated_env, ["history", "list", "-n", "1"])
    assert later.returncode == 0 and "kept" not in later.stderr
    assert kept.with_name(kept.name + ".recovered").read_bytes() == damaged


@pytest.mark.timeout(60)
def test_damage_met_while_running_stops_writing_then_is_kept_aside(isolated_env: Path) -> None:
    """Damage no check was due to find (same size and time stamp, checked today): the first read that meets it is
    one clear line, nothing more is written into the file, and the next start keeps it aside."""
    db = database(isolated_env)
    _large_history(db)
    damaged = _scribble_middle(db, keep_time=True)

    proc = run_cli(isolated_env, ["history", "search", "marker", "damaged", "page"])  # reads the marked page
    assert proc.returncode == 1
    line = assert_one_line_error(proc, "is damaged", "nothing more is written")
    assert str(db) in line
    assert db.read_bytes() == damaged  # not written into

    after = run_cli(isolated_env, ["history", "list", "-n", "3"])
    assert after.returncode == 0, after.stderr
    assert "kept as" in after.stderr and "fresh one was started" in after.stderr
    assert len(after.stdout.splitlines()) == 3  # rows copied from the readable part


@pytest.mark.timeout(60)
def test_a_damaged_byte_inside_stored_text_is_shown_not_fatal(isolated_env: Path) -> None:
    """The file is sound but one stored text is no longer UTF-8 (a flipped bit inside it): every command still
    works, the text shows U+FFFD where the byte was, and nothing is kept aside."""
    with ollama(ollama_answer(["Fine", " thanks."])) as server:
        asked = run_cli(isolated_env, ["ask", "-m", f"ollama:{MODEL}", "before"], OLLAMA_HOST=server.url)
        assert asked.returncode == 0, asked.stderr
        db = database(isolated_env)
        conn = sqlite3.connect(db)
        conn.execute("UPDATE messages SET content = CAST(x'46696e65c328207468616e6b732e' AS TEXT) "
                     "WHERE role = 'assistant'")  # "Fine\xc3( thanks.": not UTF-8
        conn.execute("UPDATE conversations SET title = CAST(x'6265c3' AS TEXT)")
        conn.commit()
        conn.close()
        cid = rows(db, "SELECT id FROM conversations")[0][0]
        for args in (["history", "list"], ["history", "show", str(cid)], ["history", "search", "before"],
                     ["history", "export", str(cid)], ["ask", "-m", f"ollama:{MODEL}", "before"],
                     ["ask", "--conversation", str(cid), "-m", f"ollama:{MODEL}", "and after"]):
            proc = run_cli(isolated_env, args, OLLAMA_HOST=server.url)
            assert proc.returncode == 0 and "Traceback" not in proc.stderr and "damaged" not in proc.stderr, (args, proc)
            if args[1] in ("show", "export"):
                assert "Fine\ufffd( thanks." in proc.stdout
    assert not [p for p in db.parent.iterdir() if "corrupt" in p.name]
    sent = server.seen[-1].json()
    assert "Fine\ufffd( thanks." in [m["content"] for m in sent["messages"]]  # type: ignore[index]
