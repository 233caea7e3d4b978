"""A real, small file system for full-disk tests: a tmpfs mounted in a private mount namespace (as root, or as an
unprivileged user through a user namespace), so nothing outside the test sees it and it vanishes with the test.

Commands run inside the namespace through `nsenter`; the test reads and fills the disk through /proc/PID/root.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import PYTHON, cli_env

FILLER = "filler"


class SmallDisk:
    def __init__(self, holder: subprocess.Popen[bytes], mount_point: Path, userns: bool) -> None:
        self.holder = holder
        self.mount_point = mount_point
        self.userns = userns
        self.home = mount_point / "home"  # ASSISTANT_HOME as the commands inside see it

    def enter(self) -> list[str]:
        """The prefix that runs a command inside the namespace."""
        join = ["--user", "--preserve-credentials"] if self.userns else []
        return ["nsenter", f"--target={self.holder.pid}", *join, "--mount", "--"]

    def outside(self, inside: Path) -> Path:
        """A path inside the small disk, as this test process reaches it."""
        return Path(f"/proc/{self.holder.pid}/root") / inside.relative_to("/")

    def command(self, args: list[str], **env: str) -> tuple[list[str], dict[str, str]]:
        return [*self.enter(), PYTHON, "-m", "assistant", *args], cli_env(self.home, **env)

    def run(self, args: list[str], timeout: float = 60, **env: str) -> subprocess.CompletedProcess[str]:
        argv, environ = self.command(args, **env)
        return subprocess.run(argv, env=environ, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)

    def fill(self) -> int:
        """Write until the disk refuses: returns the bytes written."""
        written = 0
        fd = os.open(self.outside(self.mount_point / FILLER), os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        try:
            block = b"\0" * 4096
            while True:
                written += os.write(fd, block)
        except OSError:
            return written
        finally:
            os.close(fd)

    def make_read_only(self) -> None:
        """Remount the small disk read-only (as a full or failing disk, or a read-only share, leaves it)."""
        subprocess.run([*self.enter(), "mount", "-o", "remount,ro", str(self.mount_point)], check=True, timeout=30)

    def free(self) -> None:
        self.outside(self.mount_point / FILLER).unlink(missing_ok=True)

    def files(self) -> list[str]:
        return sorted(p.name for p in self.outside(self.home / "data").iterdir())

    def query(self, sql: str) -> list[tuple[object, ...]]:
        """Run SQL on a copy of the database taken out of the small disk (the file itself is never opened here:
        SQLite would resolve /proc/PID/root to this namespace's root)."""
        data = self.outside(self.home / "data")
        with tempfile.TemporaryDirectory() as tmp:
            for name in ("assistant.db", "assistant.db-wal"):
                if (data / name).exists():
                    shutil.copyfile(data / name, Path(tmp) / name)
            conn = sqlite3.connect(Path(tmp) / "assistant.db")
            try:
                return conn.execute(sql).fetchall()
            finally:
                conn.close()


@contextmanager
def small_disk(workdir: Path, size_kb: int) -> Iterator[SmallDisk]:
    missing = [tool for tool in ("unshare", "nsenter") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"a full disk needs a private mount namespace: {', '.join(missing)} not installed (util-linux)")
    mount_point = workdir / "disk"
    mount_point.mkdir()
    userns = os.geteuid() != 0
    unshare = ["unshare", *(["--user", "--map-root-user"] if userns else []), "--mount", "--propagation", "private"]
    script = 'mount -t tmpfs -o size="$1"k tmpfs "$0" && echo mounted && exec cat >/dev/null'
    holder = subprocess.Popen([*unshare, "sh", "-c", script, str(mount_point), str(size_kb)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert holder.stdout is not None and holder.stdin is not None
    if holder.stdout.readline() != b"mounted\n":
        holder.wait(10)
        reason = holder.stderr.read().decode(errors="replace").strip() if holder.stderr else ""
        pytest.skip(f"cannot mount a small file system here ({reason or 'unshare failed'}); "
                    "needs root or unprivileged user namespaces")
    try:
        yield SmallDisk(holder, mount_point, userns)
    finally:
        holder.stdin.close()  # `cat` ends, the namespace and its tmpfs go with it
        holder.wait(10)
        for stream in (holder.stdout, holder.stderr):
            if stream is not None:
                stream.close()
