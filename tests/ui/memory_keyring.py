"""An in-memory keyring backend for UI tests (PYTHON_KEYRING_BACKEND=tests.ui.memory_keyring.MemoryKeyring)."""

from __future__ import annotations

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

_STORE: dict[tuple[str, str], str] = {}


class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        return _STORE.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        _STORE[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if _STORE.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


def clear() -> None:
    _STORE.clear()
