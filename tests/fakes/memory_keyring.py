"""An in-memory keyring backend and the keyring fixtures: memory for speed, the real Secret Service when asked.

Use the backend in a process with PYTHON_KEYRING_BACKEND=tests.fakes.memory_keyring.MemoryKeyring, or in-process
with the `memory_keyring` fixture. `real_keyring` uses a real Secret Service: a private D-Bus session with a throwaway
gnome-keyring started for the test run (tests/fakes/secret_service.py), or the one scripts/with-keyring.sh made.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

from assistant.providers.registry import Registry
from assistant.secrets import SERVICE
from tests.fakes.secret_service import SecretService, secret_service  # noqa: F401  (a fixture of this one)

KEYED = tuple(Registry().key_env())  # providers whose keys the app keeps


class MemoryKeyring(KeyringBackend):
    """Passwords in a class-level dict: shared by every instance in the process, gone when it exits."""

    priority = 1  # type: ignore[assignment]  # only used when asked for by name
    store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.store.pop((service, username), None) is None:
            raise PasswordDeleteError(f"no password for {username!r} in {service!r}")


def _use(monkeypatch: pytest.MonkeyPatch, backend_name: str | None) -> None:
    import keyring.core

    if backend_name is None:
        monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    else:
        monkeypatch.setenv("PYTHON_KEYRING_BACKEND", backend_name)
    keyring.core.init_backend()


def _restore() -> None:
    """Back to the fail backend conftest gives every test, whatever this test loaded."""
    import keyring.core
    from keyring.backends import fail

    keyring.core.set_keyring(fail.Keyring())


@pytest.fixture
def memory_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    MemoryKeyring.store.clear()
    _use(monkeypatch, "tests.fakes.memory_keyring.MemoryKeyring")
    yield MemoryKeyring()
    MemoryKeyring.store.clear()
    _restore()


@pytest.fixture
def real_keyring(monkeypatch: pytest.MonkeyPatch, secret_service: SecretService) -> Iterator[object]:
    """The Secret Service through keyring's own backend detection; entries the test creates are removed after it."""
    if secret_service.bus_address is not None:  # subprocesses the test starts inherit it too
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", secret_service.bus_address)
    import keyring
    from keyring.backends import fail

    _use(monkeypatch, None)
    backend = keyring.get_keyring()
    if isinstance(backend, (fail.Keyring, MemoryKeyring)):
        _restore()
        pytest.fail(f"a Secret Service is running but keyring found no usable backend ({backend!r})")
    existing = [p for p in KEYED if keyring.get_password(SERVICE, p) is not None]
    if existing:
        _restore()
        pytest.skip(f"the keyring already holds assistant keys for {', '.join(existing)}; not touching them")
    try:
        yield backend
    finally:
        for provider in KEYED:
            try:
                keyring.delete_password(SERVICE, provider)
            except keyring.errors.PasswordDeleteError:
                pass
        _restore()
