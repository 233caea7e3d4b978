"""The one composition root: paths, settings, the provider registry, keys and the database become an Engine.

The CLI, the TUI, `assistant bench` and the tests all build the engine here, so each reports a damaged database
the same way. Importing this module is cheap: the engine and everything heavy are imported inside the functions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.core.config import Settings, load_settings
from assistant.core.paths import Paths, resolve_paths

if TYPE_CHECKING:
    import httpx

    from assistant.core.records import Conversation
    from assistant.engine.engine import Engine
    from assistant.providers.registry import Registry
    from assistant.secrets import KeyStore

# Secrets that are not a provider's API key, with the environment variables that may hold them.
EXTRA_SECRETS: Mapping[str, tuple[str, ...]] = {}


@dataclass(frozen=True)
class Setup:
    """Where files live, the settings, and the providers: what every command needs before it does anything."""

    paths: Paths
    settings: Settings
    registry: Registry


def load(environ: Mapping[str, str] | None = None, registry: Registry | None = None) -> Setup:
    """Paths from ASSISTANT_HOME or the platform, settings from config.toml and the environment."""
    from assistant.providers.registry import Registry

    paths = resolve_paths(environ)
    registry = registry or Registry()
    return Setup(paths, load_settings(paths.config_file, registry.specs(), environ), registry)


def setup_at(home: Path, config: Mapping[str, Any] | None = None, registry: Registry | None = None) -> Setup:
    """Every file under `home`, settings from `config` shaped like config.toml (checked the same way): for the
    bench, tests and scripts."""
    from assistant.core.config import settings_from_mapping
    from assistant.providers.registry import Registry

    registry = registry or Registry()
    paths = resolve_paths({"ASSISTANT_HOME": str(home)})
    return Setup(paths, settings_from_mapping(config or {}, registry.specs(), "settings"), registry)


def make_keys(registry: Registry | None = None, environ: Mapping[str, str] | None = None) -> KeyStore:
    """The key store for every provider that takes a key (and the extra secrets), environment first."""
    from assistant.providers.registry import Registry
    from assistant.secrets import KeyStore

    return KeyStore({**(registry or Registry()).key_env(), **EXTRA_SECRETS}, environ)


def config_defaults() -> str:
    """config.toml with every setting, its default and its documentation (providers' sections included)."""
    from assistant.core.config import default_config_text
    from assistant.providers.registry import Registry

    return default_config_text(Registry().specs())


def build_engine(setup: Setup, *, keys: KeyStore | None = None, transport: httpx.AsyncBaseTransport | None = None,
                 notices: Sequence[str] = ()) -> Engine:
    """Open (creating or migrating) the database and build the engine over it; start-up news goes to
    `engine.notices` (a damaged database kept aside, with where it went)."""
    from assistant.engine.engine import Engine
    from assistant.storage.db import Database, open_database

    opened = open_database(setup.paths.database)
    found = list(notices)
    if opened.moved_aside is not None:
        found.append(f"The database was damaged; it was kept as {opened.moved_aside} and a fresh one was started.")
    db = Database(opened.conn, setup.paths.database)
    try:
        return Engine(setup.settings, db, setup.registry, keys or make_keys(setup.registry), transport=transport,
                      notices=found)
    except BaseException:
        db.close()
        raise


def peek_recent(paths: Paths, limit: int = 200) -> list[Conversation] | None:
    """Recent conversations for the TUI's first frame, read-only, before the engine opens; None if unreadable."""
    from assistant.storage.history import peek_recent_conversations

    return peek_recent_conversations(paths.database, limit)
