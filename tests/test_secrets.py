"""KeyStore: environment first, then the keyring; refuses without a keyring; never shows a key."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.core.errors import KeyringUnavailable, UsageError
from assistant.secrets import SERVICE, keyring_problem
from tests.fakes.memory_keyring import MemoryKeyring, memory_keyring, real_keyring, secret_service  # noqa: F401  (fixtures)
from tests.helpers import store_for

KEY = "sk-proj-Secret9Tq2Wm4Yx7Lk1Jh8Gf5"


def test_environment_wins_over_the_keyring(memory_keyring: MemoryKeyring) -> None:
    store_for({}).set("openai", KEY)
    assert store_for({}).get("openai") == KEY
    status = store_for({}).status("openai")
    assert (status.present, status.source, status.last4) == (True, "keyring", KEY[-4:])
    env = store_for({"OPENAI_API_KEY": "sk-env-1234"})
    assert env.get("openai") == "sk-env-1234"
    assert env.status("openai").source == "environment (OPENAI_API_KEY)"


def test_gemini_reads_either_variable() -> None:
    assert store_for({"GOOGLE_API_KEY": "g-1"}).get("gemini") == "g-1"
    assert store_for({"GEMINI_API_KEY": "g-2", "GOOGLE_API_KEY": "g-1"}).get("gemini") == "g-2"
    assert store_for({"GEMINI_API_KEY": "  "}).get("gemini") is None  # blank is unset, and no keyring here


def test_without_a_keyring_set_refuses_and_writes_nothing(isolated_env: Path) -> None:
    store = store_for({})
    with pytest.raises(KeyringUnavailable) as caught:
        store.set("anthropic", KEY)
    message = caught.value.message
    assert "gnome-keyring" in message and "ANTHROPIC_API_KEY" in message and "plain file" in message
    assert KEY not in message
    assert keyring_problem() is not None
    assert store.get("anthropic") is None  # lookups just find nothing
    assert not isolated_env.exists() or not any(KEY.encode() in p.read_bytes() for p in isolated_env.rglob("*") if p.is_file())


def test_bad_input_is_a_usage_error(memory_keyring: MemoryKeyring) -> None:
    store = store_for({})
    for bad in ("", "   \n", "sk abc", "sk-\x1b[31m"):
        with pytest.raises(UsageError):
            store.set("openai", bad)
    with pytest.raises(UsageError):
        store.set("mistral", KEY)
    assert memory_keyring.store == {}


def test_set_strips_the_newline_and_delete_reports_absence(memory_keyring: MemoryKeyring) -> None:
    store = store_for({})
    store.set("gemini", KEY + "\n")
    assert memory_keyring.store == {(SERVICE, "gemini"): KEY}
    assert store.delete("gemini") is True
    assert store.delete("gemini") is False
    assert store.get("gemini") is None


def test_reprs_never_hold_the_key(memory_keyring: MemoryKeyring) -> None:
    store = store_for({})
    status = store.set("openai", KEY)
    store.get("openai")
    for text in (repr(status), str(status), repr(store)):
        assert KEY not in text and KEY[:-4] not in text


@pytest.mark.keyring
def test_real_secret_service_round_trip(real_keyring: object) -> None:
    import keyring

    store = store_for({})
    assert keyring_problem() is None
    store.set("anthropic", KEY)
    assert keyring.get_password(SERVICE, "anthropic") == KEY  # really in the Secret Service
    assert store_for({}).get("anthropic") == KEY and store_for({}).status("anthropic").source == "keyring"
    assert store.delete("anthropic") is True
    assert keyring.get_password(SERVICE, "anthropic") is None
