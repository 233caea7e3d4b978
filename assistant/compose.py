"""The one composition root: paths, settings, the provider registry, keys and the database become an Engine.

The CLI, the TUI, `assistant bench` and the tests all build the engine here, so each reports a damaged database
the same way. Importing this module is cheap (the chat app imports it for its first frame): settings, the engine
and everything heavy are imported inside the functions.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

    from assistant.core.config import Settings
    from assistant.core.conversation import Conversation
    from assistant.core.paths import Paths
    from assistant.core.types import Answer, ChatRequest
    from assistant.engine.engine import Engine
    from assistant.providers.registry import Registry
    from assistant.secrets import KeyStore
    from assistant.storage.db import OpenResult


def extra_secrets() -> dict[str, tuple[str, ...]]:
    """Secrets that are not a provider's API key, with the environment variables that may hold them."""
    from assistant.core.config import TEAM_SECRETS

    return {name: env for name, (_, env) in TEAM_SECRETS.items()}


def extra_secret_labels() -> dict[str, str]:
    """What each of `extra_secrets()` is, for the keys screen and `assistant keys set`."""
    from assistant.core.config import TEAM_SECRETS

    return {name: label for name, (label, _) in TEAM_SECRETS.items()}


@dataclass(frozen=True)
class Setup:
    """Where files live, the settings, and the providers: what every command needs before it does anything."""

    paths: Paths
    settings: Settings
    registry: Registry


def load(environ: Mapping[str, str] | None = None, registry: Registry | None = None) -> Setup:
    """Paths from ASSISTANT_HOME or the platform, settings from config.toml and the environment."""
    from assistant.core.config import load_settings
    from assistant.core.paths import resolve_paths
    from assistant.providers.registry import Registry

    paths = resolve_paths(environ)
    registry = registry or Registry()
    return Setup(paths, load_settings(paths.config_file, registry.specs(), environ), registry)


def setup_at(home: Path, config: Mapping[str, Any] | None = None, registry: Registry | None = None) -> Setup:
    """Every file under `home`, settings from `config` shaped like config.toml (checked the same way): for the
    bench, tests and scripts."""
    from assistant.core.config import settings_from_mapping
    from assistant.core.paths import resolve_paths
    from assistant.providers.registry import Registry

    registry = registry or Registry()
    paths = resolve_paths({"ASSISTANT_HOME": str(home)})
    return Setup(paths, settings_from_mapping(config or {}, registry.specs(), "settings"), registry)


def make_keys(registry: Registry | None = None, environ: Mapping[str, str] | None = None) -> KeyStore:
    """The key store for every provider that takes a key (and the extra secrets), environment first."""
    from assistant.providers.registry import Registry
    from assistant.secrets import KeyStore

    return KeyStore({**(registry or Registry()).key_env(), **extra_secrets()}, environ)


def config_defaults() -> str:
    """config.toml with every setting, its default and its documentation (providers' sections included)."""
    from assistant.core.config import default_config_text
    from assistant.providers.registry import Registry

    return default_config_text(Registry().specs())


def build_engine(setup: Setup, *, keys: KeyStore | None = None, transport: httpx.AsyncBaseTransport | None = None,
                 notices: Sequence[str] = (), opened: OpenResult | None = None) -> Engine:
    """Open (creating or migrating) the database and build the engine over it; start-up news goes to
    `engine.notices` (a damaged database kept aside, with where it went). `opened`: the database the cache's fast
    path already opened (and announced), used as it is rather than opened and checked a second time."""
    from assistant.engine.engine import Engine
    from assistant.storage.db import Database, open_database

    found = list(notices)
    if opened is None:
        opened = open_database(setup.paths.database)
        found += startup_notices(opened)
    # A full disk leaves the database readable: reads say nothing, and the first write says the disk is full.
    db = Database(opened.conn, setup.paths.database, read_only=opened.read_only)
    try:
        return Engine(setup.settings, db, setup.registry, keys or make_keys(setup.registry), transport=transport,
                      notices=found)
    except BaseException:
        db.close()
        raise


def startup_notices(opened: OpenResult) -> list[str]:
    """A damaged database just kept aside (with what was copied from it), and those kept from earlier starts:
    said at every start until the user recovers from them or deletes them."""
    found = []
    if opened.moved_aside is not None:
        got = opened.salvaged.summary() if opened.salvaged else "nothing could be read from it"
        found.append(f"The database was damaged; it was kept as {opened.moved_aside} and a fresh one was started "
                     f"({got}). {recovery_hint(opened.moved_aside)}")
    for kept in opened.kept:
        found.append(f"A damaged database is still kept at {kept}. {recovery_hint(kept)}")
    return found


def recovery_hint(kept: Path) -> str:
    return (f"Copy what can still be read into your history with `assistant db recover {kept}` (or try "
            "`sqlite3 FILE .recover`), then delete the file.")


def peek_recent(paths: Paths, limit: int = 200) -> list[Conversation] | None:
    """Recent conversations for the TUI's first frame, read-only, before the engine opens; None if unreadable."""
    from assistant.storage.listing import peek_recent_conversations

    return peek_recent_conversations(paths.database, limit)


@dataclass(frozen=True)
class FastPath:
    """What the cache's fast path found: the answer (None on a miss), start-up news, and on a miss the database it
    opened, still open, for `build_engine(opened=...)`."""

    answer: Answer | None
    notices: list[str]
    opened: OpenResult | None = None


def cached_answer(setup: Setup, request: ChatRequest) -> FastPath:
    """A new question answered straight from the exact cache, without the engine, an event loop or a provider:
    key -> SQLite -> the answer, recorded in history as the engine would record it. No answer on a miss, and
    whenever the request is not one the fast path can take (a conversation to continue, files, cache off, tools)."""
    settings, specs = setup.settings, setup.registry.specs()
    if (request.conversation_id is not None or request.regenerate or not request.use_cache or request.prior
            or request.attachments or not settings.cache.enabled or not setup.paths.database.exists()):
        return FastPath(None, [])
    if settings.mcp.enabled and request.tools.enabled:
        return FastPath(None, [])  # the key includes the tools offered, known only once the MCP servers have started
    import time

    from assistant.core.cache_key import KEY_SCHEME, cache_key
    from assistant.core.errors import DatabaseDamaged, DatabaseReadOnly, DiskFull
    from assistant.core.pricing import PriceTable
    from assistant.core.types import Answer, ChatMessage, ModelRef, ProviderRequest, Usage
    from assistant.engine.accounting import Accountant, choose_baseline
    from assistant.engine.recorder import answer_call, record_replay
    from assistant.engine.session import Turn, begin_turn, validate_prompt
    from assistant.storage.cache import ResponseCache
    from assistant.storage.calls import CallLog
    from assistant.storage.db import close_database, open_database
    from assistant.storage.history import History

    t0 = time.perf_counter()
    validate_prompt(request.prompt)
    local_only = request.local_only or settings.general.local_only
    named = request.model or (setup.registry.parse_model(settings.general.default_model)
                              if settings.general.default_model else None)
    if named is not None:
        spec = specs.get(named.provider)
        if spec is None:
            return FastPath(None, [])  # the engine says why it cannot answer
        refs = [ModelRef(spec.name, spec.canonical_model(named.model))]
    else:
        refs = settings.default_refs(specs, local_only=local_only)
    messages = ((ChatMessage("system", request.system),) if request.system else ()) + (
        ChatMessage("user", request.prompt),)
    opened = open_database(setup.paths.database)
    notices = startup_notices(opened)
    conn = opened.conn
    saved, handed_over = True, False
    try:
        cache = ResponseCache.from_settings(conn, settings.cache, KEY_SCHEME)
        hit = None
        for ref in refs:
            hit = cache.get(cache_key(ProviderRequest(ref, messages, request.settings)))
            if hit is not None:
                break
        if hit is None:
            handed_over = True
            return FastPath(None, notices, opened)
        history, calls = History(conn), CallLog(conn)
        try:
            turn = begin_turn(history, request)
        except DatabaseDamaged:
            return FastPath(None, notices)  # the engine reads damaged text leniently, or stops writing: it decides
        except (DiskFull, DatabaseReadOnly) as exc:  # the answer is still shown; nothing can be recorded
            why = opened.read_only or exc
            notices.append(f"This answer comes from the cache and is not saved in history: {why.message}")
            turn, saved = Turn("", request.prompt, (), request.system, 0), False
        ref = ModelRef(hit.provider, hit.model)
        prices = PriceTable.load(settings.prices)
        local = {n for n, s in specs.items() if s.local}
        accountant = Accountant(prices, choose_baseline(settings, prices, specs), local.__contains__)
        usage = Usage(hit.input_tokens, hit.output_tokens, hit.cost_estimated)
        money = accountant.cache_hit(ref, usage, hit.cost_usd)
        reason = f"{ref} - cached answer"
        ttft = total = (time.perf_counter() - t0) * 1000
        call = answer_call(os.urandom(16).hex(), turn.conversation_id, ref, usage, money, True, ttft, total, reason, hit.key)
        mid = record_replay(history, calls, turn.conversation_id, call, hit.text) if saved else None
        if saved:
            cache.flush()
        return FastPath(Answer(hit.text, ref.provider, ref.model, True, usage, 0.0, money.saved_usd, ttft, total,
                               turn.conversation_id, mid, reason, money.estimated, cache="exact"), notices)
    finally:
        if not handed_over:
            close_database(conn, setup.paths.database, sealed=saved and opened.read_only is None)
