"""A private D-Bus session with a throwaway, unlocked gnome-keyring: a real Secret Service for the keyring tests.

Started once per test run when `dbus-daemon` and `gnome-keyring-daemon` are installed, so a fresh clone runs the
real keyring tests without any wrapper; the user's own session bus and keyring are never touched.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PASSWORD = b"throwaway-test-keyring"
# A session bus without service directories: nothing is started on demand (a second, orphaned keyring daemon).
BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={dir}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


@dataclass(frozen=True)
class SecretService:
    """Where the private bus listens (None when the run was already wrapped in such a session)."""

    bus_address: str | None


def _wait_until_serving(env: dict[str, str], daemon: subprocess.Popen[bytes], seconds: float = 10.0) -> None:
    """The daemon owns org.freedesktop.secrets and its default collection is unlocked."""
    import secretstorage

    deadline = time.monotonic() + seconds
    saved = os.environ.get("DBUS_SESSION_BUS_ADDRESS")
    os.environ["DBUS_SESSION_BUS_ADDRESS"] = env["DBUS_SESSION_BUS_ADDRESS"]
    try:
        while True:
            try:
                with secretstorage.dbus_init() as conn:
                    # Asking for the default collection before the login one exists would create it (a prompt).
                    if any(not c.is_locked() for c in secretstorage.get_all_collections(conn)):
                        return
            except Exception as exc:  # not on the bus yet
                if daemon.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gnome-keyring-daemon did not start ({exc})") from exc
            time.sleep(0.05)
    finally:
        if saved is None:
            os.environ.pop("DBUS_SESSION_BUS_ADDRESS", None)
        else:
            os.environ["DBUS_SESSION_BUS_ADDRESS"] = saved


def _stop(pid: int) -> None:
    try:
        os.kill(pid, 15)
    except ProcessLookupError:
        pass


@pytest.fixture(scope="session")
def secret_service() -> Iterator[SecretService]:
    if os.environ.get("ASSISTANT_REAL_KEYRING") == "1":  # scripts/with-keyring.sh already made one
        yield SecretService(None)
        return
    missing = [tool for tool in ("dbus-daemon", "gnome-keyring-daemon") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"no Secret Service can be started here: {' and '.join(missing)} not installed "
                    "(apt install dbus gnome-keyring)")
    workdir = Path(tempfile.mkdtemp(prefix="assistant-keyring-"))
    config = workdir / "bus.conf"
    config.write_text(BUS_CONFIG.format(dir=workdir), encoding="utf-8")
    bus = subprocess.run(["dbus-daemon", f"--config-file={config}", "--print-address=1", "--print-pid=1", "--fork"],
                         capture_output=True, text=True, timeout=30, check=True)
    address, bus_pid = bus.stdout.split("\n")[:2]
    # Its own data and runtime folders: the throwaway keyring file lives there, never in the user's home.
    env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": address, "XDG_DATA_HOME": str(workdir),
           "XDG_RUNTIME_DIR": str(workdir)}
    daemon = subprocess.Popen(["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
                              stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        assert daemon.stdin is not None
        daemon.stdin.write(PASSWORD)
        daemon.stdin.close()
        _wait_until_serving(env, daemon)
        yield SecretService(address)
    finally:
        _stop(daemon.pid)
        _stop(int(bus_pid))
        try:
            daemon.wait(10)
        except subprocess.TimeoutExpired:
            daemon.kill()
        shutil.rmtree(workdir, ignore_errors=True)
