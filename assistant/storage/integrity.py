"""Catching a damaged database early: a check when the file changed behind our back (or a day has passed), a seal
left at each clean close, and the damaged copies kept aside for the user to recover from."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from dataclasses import asdict, dataclass
from pathlib import Path

# Past this age the structure is checked again (PRAGMA quick_check) even when the file looks as we left it: damage
# from the disk itself changes no size or time stamp.
CHECK_EVERY_SECONDS = 24 * 3600.0
KEPT_MARK = ".corrupt-"
RECOVERED_SUFFIX = ".recovered"
SIDE_FILES = ("-wal", "-shm")


@dataclass(frozen=True)
class Seal:
    """How the file looked when a process of ours last left it, and when its structure was last checked."""

    checked_at: float
    size: int
    mtime_ns: int
    damaged: bool = False  # a running process met damage: the next start checks everything and keeps it aside


def seal_path(db: Path) -> Path:
    return db.with_name(db.name + ".checked")


def _stat(db: Path) -> tuple[int, int]:
    st = db.stat()
    return st.st_size, st.st_mtime_ns


def _wal_in_use(db: Path) -> bool:
    """Another process of ours has the file open (or one died with committed pages in the WAL): its checkpoints
    explain a changed file."""
    try:
        return db.with_name(db.name + "-wal").stat().st_size > 0
    except OSError:
        return False


def read_seal(db: Path) -> Seal | None:
    try:
        data = json.loads(seal_path(db).read_text(encoding="utf-8"))
        return Seal(float(data["checked_at"]), int(data["size"]), int(data["mtime_ns"]), bool(data.get("damaged")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_seal(db: Path, checked_at: float | None = None, *, damaged: bool = False) -> None:
    """Record the file as it is now; a seal that cannot be written (a full disk) only means one more check."""
    try:
        size, mtime = _stat(db)
        if checked_at is None:
            old = read_seal(db)
            checked_at = old.checked_at if old is not None and not old.damaged else 0.0
        target = seal_path(db)
        temp = target.with_name(target.name + f".{os.getpid()}")
    except OSError:
        return
    try:
        temp.write_text(json.dumps(asdict(Seal(checked_at, size, mtime, damaged))), encoding="utf-8")
        temp.replace(target)
    except OSError:
        temp.unlink(missing_ok=True)  # a full disk: nothing left behind


def check_due(db: Path, now: float | None = None) -> str | None:
    """The PRAGMA to run before anything is written, or None when the file is as a process of ours left it."""
    if not db.exists() or db.stat().st_size == 0:
        return None  # a new database: nothing to check yet
    seal = read_seal(db)
    if seal is None or seal.damaged:
        return "integrity_check"
    if (seal.size, seal.mtime_ns) != _stat(db) and not _wal_in_use(db):
        return "integrity_check"  # written by something other than us
    if (now or time.time()) - seal.checked_at > CHECK_EVERY_SECONDS:
        return "quick_check"
    return None


def problems(conn: sqlite3.Connection, pragma: str) -> list[str]:
    """What the check found wrong (empty when the file is sound); raises the sqlite3 error when it cannot even run."""
    assert pragma in ("quick_check", "integrity_check")
    saved = conn.text_factory
    conn.text_factory = lenient  # the report may quote damaged names: bytes that are not UTF-8
    try:
        found = [str(row[0]) for row in conn.execute(f"PRAGMA {pragma}(20)").fetchall()]
    finally:
        conn.text_factory = saved
    return [] if found == ["ok"] else found


def lenient(raw: bytes) -> str:
    """Text read from a damaged file: what is not UTF-8 is replaced, never an error."""
    return raw.decode("utf-8", "replace")


def kept_aside(db: Path) -> list[Path]:
    """Damaged copies kept beside the database that the user has not recovered from or deleted yet, oldest first."""
    try:
        names = sorted(p for p in db.parent.iterdir() if p.name.startswith(db.name + KEPT_MARK))
    except OSError:
        return []
    return [p for p in names if not p.name.endswith(SIDE_FILES + (RECOVERED_SUFFIX,))]


def move_aside(db: Path) -> Path:
    """Rename the damaged file (and its WAL and shared-memory files) to a stamped name beside it."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = db.with_name(f"{db.name}{KEPT_MARK}{stamp}")
    n = 1
    while target.exists():
        target = db.with_name(f"{db.name}{KEPT_MARK}{stamp}-{n}")
        n += 1
    db.replace(target)
    for suffix in SIDE_FILES:
        side = db.with_name(db.name + suffix)
        if side.exists():
            side.replace(target.with_name(target.name + suffix))
    seal_path(db).unlink(missing_ok=True)
    return target


def mark_recovered(kept: Path) -> Path:
    """After `assistant db recover`, the kept copy is renamed so it is no longer announced (the user deletes it)."""
    target = kept.with_name(kept.name + RECOVERED_SUFFIX)
    kept.replace(target)
    for suffix in SIDE_FILES:
        side = kept.with_name(kept.name + suffix)
        if side.exists():
            side.replace(target.with_name(target.name + suffix))
    return target
