"""API keys: environment variable first, then the OS keyring; never a file, never logged."""

from __future__ import annotations

import os
from collections.abc import Mapping
from types import ModuleType
from typing import TYPE_CHECKING

from assistant.core.errors import KeyringUnavailable, UsageError

if TYPE_CHECKING:
    from assistant.core.reports import KeyStatus

SERVICE = "assistant"


def _keyring(env: str = "") -> ModuleType:
    """The usable keyring module, or a clear error saying what to install (never a plaintext fallback)."""
    instead = f"or set {env} in the environment instead." if env else "or use environment variables instead."
    try:
        import keyring
        from keyring.backends import fail
    except ImportError as exc:
        raise KeyringUnavailable("The keyring package is missing; reinstall assistant.") from exc
    try:
        backend = keyring.get_keyring()
    except Exception:  # a broken backend configuration is the same as none for the user
        backend = fail.Keyring()  # type: ignore[no-untyped-call]  # keyring ships no annotations for it
    chained = getattr(backend, "backends", None)
    if isinstance(backend, fail.Keyring) or (type(backend).__name__ == "ChainerBackend" and not chained):
        raise KeyringUnavailable(
            "No OS keyring is available, and keys are never written to a plain file. Install and unlock one "
            "(Linux: gnome-keyring or KWallet with a D-Bus session, e.g. `apt install gnome-keyring dbus-user-session`), "
            + instead
        )
    return keyring


def keyring_problem() -> str | None:
    """Why keys cannot be stored here, or None when a keyring is usable."""
    try:
        _keyring()
    except KeyringUnavailable as exc:
        return exc.message
    return None


class KeyStore:
    """Looks keys up in the environment, then the keyring; the keyring is imported only when needed.

    `env_vars` says which secrets exist and which environment variables hold each (from the provider specs,
    plus the team secret); nothing here names a provider.
    """

    def __init__(self, env_vars: Mapping[str, tuple[str, ...]], environ: Mapping[str, str] | None = None) -> None:
        self.env_vars = dict(env_vars)
        self.environ = os.environ if environ is None else environ
        self._cache: dict[str, str | None] = {}

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.env_vars)

    def _check(self, provider: str) -> None:
        if provider not in self.env_vars:
            raise UsageError(f"Unknown provider '{provider}'; keys are kept for {', '.join(self.env_vars)}.")

    def _env_hint(self, provider: str) -> str:
        names = self.env_vars.get(provider, ())
        return names[0] if names else ""

    def __repr__(self) -> str:  # the default would be harmless, but keys must never reach a log through a repr
        return f"KeyStore(cached={sorted(p for p, v in self._cache.items() if v)})"

    def require_keyring(self, provider: str) -> None:
        """Fail before asking for a key that could not be stored."""
        self._check(provider)
        _keyring(self._env_hint(provider))

    def _from_env(self, provider: str) -> tuple[str, str] | None:
        for name in self.env_vars.get(provider, ()):
            value = self.environ.get(name, "").strip()
            if value:
                return value, name
        return None

    def _from_keyring(self, provider: str) -> str | None:
        try:
            found: str | None = _keyring().get_password(SERVICE, provider)
            return found or None
        except KeyringUnavailable:
            return None
        except Exception:  # a locked or broken keyring is the same as no key for lookups
            return None

    def get(self, provider: str) -> str | None:
        if provider not in self.env_vars:
            return None
        env = self._from_env(provider)
        if env:
            return env[0]
        if provider not in self._cache:
            self._cache[provider] = self._from_keyring(provider)
        return self._cache[provider]

    def status(self, provider: str) -> KeyStatus:
        self._check(provider)
        env = self._from_env(provider)
        from assistant.core.reports import KeyStatus  # the keys screen's value: not imported to answer

        if env:
            return KeyStatus(provider, True, f"environment ({env[1]})", env[0][-4:])
        value = self._from_keyring(provider)
        return KeyStatus(provider, bool(value), "keyring" if value else None, value[-4:] if value else None)

    def set(self, provider: str, key: str) -> KeyStatus:
        self._check(provider)
        key = key.strip()
        if not key:
            raise UsageError(f"The key was empty; paste the key when asked, or pipe it in: `printf %s \"$KEY\" | assistant keys set {provider}`.")
        if any(c.isspace() for c in key) or not key.isprintable():
            raise UsageError("That key contains spaces or control characters; copy it again without extra characters.")
        kr = _keyring(self._env_hint(provider))
        try:
            kr.set_password(SERVICE, provider, key)
        except Exception as exc:
            raise KeyringUnavailable(
                f"The keyring refused to store the key ({exc.__class__.__name__}); unlock it and try again."
            ) from None
        self._cache[provider] = key
        from assistant.core.reports import KeyStatus

        return KeyStatus(provider, True, "keyring", key[-4:])

    def delete(self, provider: str) -> bool:
        self._check(provider)
        kr = _keyring(self._env_hint(provider))
        self._cache.pop(provider, None)
        try:
            kr.delete_password(SERVICE, provider)
        except Exception as exc:
            if exc.__class__.__name__ == "PasswordDeleteError":
                return False
            raise KeyringUnavailable(
                f"The keyring refused to delete the key ({exc.__class__.__name__}); unlock it and try again."
            ) from None
        return True
