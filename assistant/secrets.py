"""API keys: environment variable first, then the OS keyring; never a file, never logged."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping

from assistant.errors import KeyringUnavailable, UsageError

SERVICE = "assistant"
ENV_VARS: dict[str, tuple[str, ...]] = {
    "openai": ("OPENAI_API_KEY",),
    "anthropic": ("ANTHROPIC_API_KEY",),
    "gemini": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
}


@dataclass(frozen=True)
class KeyStatus:
    provider: str
    present: bool
    source: str | None  # "environment (NAME)" or "keyring"
    last4: str | None

    def __repr__(self) -> str:  # the key itself is never held here, only its last four characters
        return f"KeyStatus({self.provider!r}, present={self.present}, source={self.source!r})"


def _check_provider(provider: str) -> None:
    if provider not in ENV_VARS:
        raise UsageError(f"Unknown provider '{provider}'; keys are kept for {', '.join(ENV_VARS)}.")


def _keyring(provider: str | None = None) -> object:
    """The usable keyring module, or a clear error saying what to install (never a plaintext fallback)."""
    env = ENV_VARS.get(provider or "openai", ("OPENAI_API_KEY",))[0]
    try:
        import keyring
        from keyring.backends import fail
    except ImportError as exc:
        raise KeyringUnavailable("The keyring package is missing; reinstall assistant.") from exc
    try:
        backend = keyring.get_keyring()
    except Exception:  # a broken backend configuration is the same as none for the user
        backend = fail.Keyring()
    chained = getattr(backend, "backends", None)
    if isinstance(backend, fail.Keyring) or (type(backend).__name__ == "ChainerBackend" and not chained):
        raise KeyringUnavailable(
            "No OS keyring is available, and keys are never written to a plain file. Install and unlock one "
            "(Linux: gnome-keyring or KWallet with a D-Bus session, e.g. `apt install gnome-keyring dbus-user-session`), "
            f"or set {env} in the environment instead."
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
    """Looks keys up in the environment, then the keyring; the keyring is imported only when needed."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.environ = os.environ if environ is None else environ
        self._cache: dict[str, str | None] = {}

    def __repr__(self) -> str:  # the default would be harmless, but keys must never reach a log through a repr
        return f"KeyStore(cached={sorted(p for p, v in self._cache.items() if v)})"

    def require_keyring(self, provider: str) -> None:
        """Fail before asking for a key that could not be stored."""
        _check_provider(provider)
        _keyring(provider)

    def _from_env(self, provider: str) -> tuple[str, str] | None:
        for name in ENV_VARS.get(provider, ()):
            value = self.environ.get(name, "").strip()
            if value:
                return value, name
        return None

    def _from_keyring(self, provider: str) -> str | None:
        try:
            kr = _keyring()
            return kr.get_password(SERVICE, provider) or None  # type: ignore[attr-defined]
        except KeyringUnavailable:
            return None
        except Exception:  # a locked or broken keyring is the same as no key for lookups
            return None

    def get(self, provider: str) -> str | None:
        if provider not in ENV_VARS:
            return None
        env = self._from_env(provider)
        if env:
            return env[0]
        if provider not in self._cache:
            self._cache[provider] = self._from_keyring(provider)
        return self._cache[provider]

    def status(self, provider: str) -> KeyStatus:
        _check_provider(provider)
        env = self._from_env(provider)
        if env:
            return KeyStatus(provider, True, f"environment ({env[1]})", env[0][-4:])
        value = self._from_keyring(provider)
        return KeyStatus(provider, bool(value), "keyring" if value else None, value[-4:] if value else None)

    def set(self, provider: str, key: str) -> KeyStatus:
        _check_provider(provider)
        key = key.strip()
        if not key:
            raise UsageError("The key was empty; paste the key when asked, or pipe it in: `printf %s \"$KEY\" | assistant keys set openai`.")
        if any(c.isspace() for c in key) or not key.isprintable():
            raise UsageError("That key contains spaces or control characters; copy it again without extra characters.")
        kr = _keyring(provider)
        try:
            kr.set_password(SERVICE, provider, key)  # type: ignore[attr-defined]
        except Exception as exc:
            raise KeyringUnavailable(
                f"The keyring refused to store the key ({exc.__class__.__name__}); unlock it and try again."
            ) from None
        self._cache[provider] = key
        return KeyStatus(provider, True, "keyring", key[-4:])

    def delete(self, provider: str) -> bool:
        _check_provider(provider)
        kr = _keyring(provider)
        self._cache.pop(provider, None)
        try:
            kr.delete_password(SERVICE, provider)  # type: ignore[attr-defined]
        except Exception as exc:
            if exc.__class__.__name__ == "PasswordDeleteError":
                return False
            raise KeyringUnavailable(
                f"The keyring refused to delete the key ({exc.__class__.__name__}); unlock it and try again."
            ) from None
        return True
