"""The team tier: answers shared by a team through its Redis/Valkey server, between this machine's cache and the
models. A request waits for it at most `read_timeout_ms`; a private request never touches it."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from assistant.core.config import TeamSettings
from assistant.core.records import CachedAnswer
from assistant.core.types import ProviderRequest
from assistant.engine.tiers import Hit, Lookup
from assistant.storage.team import COUNTS, TeamCache
from assistant.storage.team_config import server_label, settings_problem

if TYPE_CHECKING:
    from assistant.core.reports import TeamStatus

Secret = Callable[[], "str | None"]


class TeamTier:
    """The TeamCache is built on first use (warm, lookup or keep): the secret may have to come from the keyring,
    which must not slow start-up or a command that never needs it."""

    name = "team"

    def __init__(self, settings: TeamSettings, secret: Secret, password: Secret) -> None:
        self.settings = settings
        self.problem = settings_problem(settings)
        self._secret = secret
        self._password = password
        self._cache: TeamCache | None = None
        self._lock = threading.Lock()
        self._saved = dict.fromkeys(COUNTS, 0)  # counts already added to the ledger
        self._closed = False

    @property
    def wanted(self) -> bool:
        return bool(self.settings.cache_url) and self.problem is None and not self._closed

    def cache(self) -> TeamCache | None:
        """The client, built now if need be (may ask the keyring: call from a thread, or from a command)."""
        if self._cache is None and self.wanted:
            with self._lock:
                if self._cache is None and not self._closed:
                    cache = TeamCache(self.settings, self._secret() or "", password=self._password())
                    cache.prepare()  # import redis-py here, not inside a request's few milliseconds
                    self._cache = cache
        return self._cache

    # the seam ----------------------------------------------------------------------------------
    async def lookup(self, lookup: Lookup) -> Hit | None:
        if lookup.private or not self.wanted:
            return None
        cache = self._cache or await asyncio.to_thread(self.cache)
        future = cache.submit(lookup.keys) if cache is not None else None
        if cache is None or future is None:  # the breaker is open: no time spent
            return None
        try:
            found = await asyncio.wait_for(asyncio.wrap_future(future), self.settings.read_timeout_ms / 1000)
        except TimeoutError:
            cache.gave_up()  # the read finishes (or times out) on its own thread; this request goes on
            return None
        return Hit(found, self.name) if found is not None else None

    def keep(self, lookup: Lookup, request: ProviderRequest, entry: CachedAnswer) -> None:
        if lookup.private or not self.settings.share or not self.wanted:
            return
        cache = self.cache()
        if cache is not None:
            cache.put(entry)

    def adopt(self, hit: Hit) -> None:
        return None  # only fresh answers are shared; a similar question's answer is not this request's answer

    # for the engine's facade ------------------------------------------------------------------------
    def warm(self) -> None:
        cache = self.cache()
        if cache is not None:
            cache.warm()

    def status(self, *, probe: bool = False) -> TeamStatus | None:
        """None when no team cache is set up; `probe` asks the server now (bounded by the timeouts)."""
        if not self.settings.cache_url:
            return None
        if self.problem is not None:
            from assistant.core.reports import TeamStatus

            return TeamStatus("misconfigured", "", 0.0, last_error=self.problem)
        cache = self.cache() if probe else self._cache
        if cache is None:
            from assistant.core.reports import TeamStatus

            return TeamStatus("connecting", server_label(self.settings), 0.0, sharing=self.settings.share)
        return cache.probe() if probe else cache.status()

    def unsaved_counts(self) -> dict[str, int]:
        """Counts since the last call, for the ledger (database thread)."""
        if self._cache is None:
            return {}
        now = dataclasses.asdict(self._cache.status())
        delta = {name: now[name] - self._saved[name] for name in COUNTS}
        self._saved = {name: now[name] for name in COUNTS}
        return delta

    def close(self) -> None:
        """Give queued answers a moment to reach the server, then stop."""
        with self._lock:
            self._closed = True
            cache = self._cache
        if cache is not None:
            cache.close(timeout_s=1.0)
