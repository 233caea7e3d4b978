"""The team cache's client: answers shared through Redis/Valkey, sealed with the team secret, never in the way.

A lookup runs on a reader thread of its own and the request waits for it at most `read_timeout_ms`
(`submit`); the first time the server fails, the circuit breaker opens and lookups return at once, without
touching the network, until a trial on the background thread (a PING every `cooldown_s`) finds the server again:
no request pays for a trial. `get_first` asks for every candidate key in one round trip. `put` only appends to
a bounded queue; the background thread seals and writes. The sync client was chosen over redis-py's asyncio one:
a blocking GET with a socket timeout is the cheapest bounded call (about 35 us on loopback) and the wait is
bounded on the caller's side anyway. redis-py (about 100 ms to import) is imported on first use.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from assistant.core.config import TeamSettings
from assistant.core.errors import ConfigError
from assistant.core.records import CachedAnswer
from assistant.storage.team_config import classify, describe, scrub, server_label, settings_problem
from assistant.storage.team_entry import MAX_BLOB, seal, team_key, unseal

if TYPE_CHECKING:
    from assistant.core.reports import TeamStatus

WRITE_QUEUE = 256  # answers waiting to be written; a full queue drops the newest, counted
COUNTS = ("hits", "misses", "errors", "tampered", "skipped", "late", "writes", "dropped")
_UNUSABLE = ("off", "down", "auth failed")
NO_SECRET = "no team secret: set it with `assistant keys set team` or ASSISTANT_TEAM_SECRET"


class TeamCache:
    """Thread-safe. Never raises from get/submit/put/warm/status; a failure is counted and opens the breaker."""

    def __init__(self, settings: TeamSettings, secret: str | bytes, *, password: str | None = None) -> None:
        problem = settings_problem(settings)
        if problem:
            raise ConfigError(problem)
        self.settings = settings
        self.namespace = settings.namespace
        self.where = server_label(settings) if settings.cache_url else ""
        self._mac_key = team_key(secret) if secret else b""
        self._password = password
        self._secrets = tuple(s for s in (password, secret if isinstance(secret, str) else "") if s)
        self._ttl = max(1, int(settings.ttl_days * 86400)) if settings.ttl_days > 0 else 0
        self._lock = threading.Lock()
        self._client_lock = threading.Lock()  # held while redis is imported, so counters never wait for it
        self._client: Any = None  # lookups: the request's read_timeout_ms
        self._background: Any = None  # writes, trials, checks: nobody waits for them, so a generous timeout
        self._state = "connecting" if settings.cache_url and secret else "off"
        self._retry_at = 0.0
        self._last_ok = 0.0
        self._writes_paused_until = 0.0
        self._counts = dict.fromkeys(COUNTS, 0)
        self._last_error = "" if secret or not settings.cache_url else NO_SECRET
        self._queue: queue.Queue[object] = queue.Queue(WRITE_QUEUE)
        self._pending = 0
        self._idle = threading.Condition(self._lock)
        self._reader: ThreadPoolExecutor | None = None
        self._reading_since: float | None = None
        self._thread: threading.Thread | None = None
        if self._state != "off":
            self._thread = threading.Thread(target=self._run, name="team-cache", daemon=True)
            self._thread.start()

    def redis_key(self, key: str) -> str:
        return f"{self.namespace}:{key}"

    @property
    def usable(self) -> bool:
        """False while the breaker is open (or the tier is off): a lookup then costs nothing."""
        return self._state not in _UNUSABLE

    # the request path ------------------------------------------------------------------------
    def get(self, key: str) -> CachedAnswer | None:
        """The shared answer for a b3: key, or None (miss, rejected entry, or the server is not usable now)."""
        return self.get_first((key,))

    def get_first(self, keys: Sequence[str]) -> CachedAnswer | None:
        """The answer under the first key (in the given order) that has a usable one, asking for all of them in
        one round trip: the engine looks up every model a request could go to. One lookup in the counters."""
        if not self._admit(keys):
            return None
        try:
            client = self._redis()
            if len(keys) == 1:
                blobs: list[Any] = [client.getrange(self.redis_key(keys[0]), 0, MAX_BLOB - 1)]
            else:
                pipe = client.pipeline(transaction=False)
                for key in keys:
                    pipe.getrange(self.redis_key(key), 0, MAX_BLOB - 1)
                blobs = pipe.execute(raise_on_error=False)
        except Exception as exc:  # whatever the server or client does, the request goes on
            if len(keys) > 1 or "WRONGTYPE" not in str(exc):
                self._failed(exc)
                return None
            blobs = [exc]
        self._connected()
        return self._first_usable(keys, blobs)

    def submit(self, keys: Sequence[str]) -> Future[CachedAnswer | None] | None:
        """`get_first` on the reader thread, for a caller that waits only so long; None (counted as skipped) when
        the breaker is open or an earlier read is stuck, so nothing is started that could not help."""
        if not self._admit(keys):
            return None
        with self._lock:
            since = self._reading_since
            if since is not None and time.monotonic() - since > self.settings.read_timeout_ms / 1000:
                self._counts["skipped"] += 1
                return None
            if self._reader is None:
                self._reader = ThreadPoolExecutor(1, thread_name_prefix="team-read")
            reader = self._reader
        try:
            return reader.submit(self._read, tuple(keys))
        except RuntimeError:  # closed meanwhile
            return None

    def gave_up(self) -> None:
        """The caller stopped waiting for a submitted lookup (it answers without the team cache): the store is
        too slow to help now, so lookups skip it until a background trial finds it answering."""
        self._count("late")
        self._failed(TimeoutError(f"did not answer within {self.settings.read_timeout_ms:g} ms"))

    def put(self, entry: CachedAnswer) -> bool:
        """Queue an answer for the team under its key (only with share on); never waits. False if it will not be
        sent."""
        if not self.settings.share or not entry.text.strip():
            return False
        with self._lock:
            if self._state in _UNUSABLE or time.monotonic() < self._writes_paused_until:
                if self._state != "off":
                    self._counts["dropped"] += 1
                return False
            self._pending += 1
        try:
            self._queue.put_nowait(entry)
        except queue.Full:
            self._done()
            self._count("dropped")
            return False
        return True

    # around it -----------------------------------------------------------------------------------
    def prepare(self) -> None:
        """Import redis-py and build the client (no network): CPU time a bounded wait should not include."""
        if self._state != "off":
            with contextlib.suppress(Exception):
                self._redis()

    def warm(self) -> None:
        """Connect in the background now, so the first lookup finds an open connection and a known state."""
        self._enqueue(_PROBE)

    def probe(self) -> TeamStatus:
        """Ask the server now (PING, bounded by the timeouts), whatever the breaker says; for `cache stats`."""
        if self._state != "off":
            self._ping()
        return self.status()

    def status(self) -> TeamStatus:
        with self._lock:
            retry = max(0.0, self._retry_at - time.monotonic()) if self._state in ("down", "auth failed") else 0.0
            from assistant.core.reports import TeamStatus

            return TeamStatus(self._state, self.where, retry, **self._counts, last_error=self._last_error,
                              sharing=self.settings.share)

    def flush(self, timeout_s: float = 1.0) -> bool:
        """Wait until queued writes are done (or dropped); False if they were not within timeout_s."""
        deadline = time.monotonic() + timeout_s
        with self._idle:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0 or not self._idle.wait(left):
                    return False
        return True

    def close(self, timeout_s: float = 0.5) -> None:
        """Give queued writes up to timeout_s, then stop the threads and close the connections."""
        if self._thread is not None:
            self.flush(timeout_s)
        with self._lock:
            self._state = "off"  # the thread stops at its next item, and nothing new is queued
            clients = [c for c in (self._client, self._background) if c is not None]
            self._client = self._background = None
            reader, self._reader = self._reader, None
        if reader is not None:
            reader.shutdown(wait=False, cancel_futures=True)
        for client in clients:  # also wakes a read or write stuck on a server that never answers
            client.connection_pool.disconnect()
        if self._thread is not None:
            self._enqueue(_STOP, force=True)
            self._thread.join(timeout_s)

    # internals -------------------------------------------------------------------------------
    def _admit(self, keys: Sequence[str]) -> bool:
        with self._lock:
            if self._state in _UNUSABLE or not keys:
                if self._state != "off" and keys:
                    self._counts["skipped"] += 1
                return False
        return True

    def _read(self, keys: tuple[str, ...]) -> CachedAnswer | None:
        self._reading_since = time.monotonic()
        try:
            return self.get_first(keys)
        finally:
            self._reading_since = None

    def _first_usable(self, keys: Sequence[str], blobs: list[Any]) -> CachedAnswer | None:
        now = time.time()
        for key, blob in zip(keys, blobs, strict=False):
            if isinstance(blob, Exception):  # WRONGTYPE: something that is not ours sits at the key
                self._count("tampered", f"rejected a non-string value at {self.redis_key(key)}")
                continue
            found = unseal(self._mac_key, self.namespace, key, blob) if blob else "missing"
            if isinstance(found, str):
                if found not in ("missing", "foreign"):
                    self._count("tampered", f"rejected a {found} entry at {self.redis_key(key)}")
            elif not self._ttl or now - found.created_at <= self._ttl:
                self._count("hits")
                return found
        self._count("misses")
        return None

    def _redis(self) -> Any:
        client = self._client
        if client is None:
            with self._client_lock:
                if self._client is None:
                    self._client = self._make_client(self.settings.read_timeout_ms / 1000)
                client = self._client
        return client

    def _quiet(self) -> Any:
        """The background thread's own connection: a busy machine or a slow link must not make a write or a
        trial fail when no request is waiting for it."""
        if self._background is None:
            with self._client_lock:
                if self._background is None:
                    self._background = self._make_client(max(1.0, self.settings.read_timeout_ms / 1000))
        return self._background

    def _make_client(self, timeout_s: float) -> Any:
        import redis  # about 100 ms: paid only once a team cache is configured and used
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        s = self.settings
        # No retries (redis-py retries 3 times by default), no CLIENT SETINFO round trips on connect.
        pool = redis.ConnectionPool.from_url(
            s.cache_url, password=self._password, socket_connect_timeout=s.connect_timeout_ms / 1000,
            socket_timeout=timeout_s, retry=Retry(NoBackoff(), 0), driver_info=None)
        return redis.Redis(connection_pool=pool)

    def _count(self, name: str, error: str = "") -> None:
        with self._lock:
            self._counts[name] += 1
            if error:
                self._last_error = error

    def _connected(self) -> None:
        self._last_ok = time.monotonic()
        if self._state == "connecting":
            with self._lock:
                if self._state == "connecting":
                    self._state = "connected"

    def _failed(self, exc: BaseException, *, writing: bool = False) -> None:
        kind = classify(exc)
        detail = scrub(str(exc) or type(exc).__name__, self._secrets)
        with self._lock:
            self._counts["errors"] += 1
            if kind == "full" or (writing and kind in ("refused", "denied")):  # e.g. a read-only ACL user
                # The server answers but will not store: reads go on, writes pause for a cool-down.
                self._writes_paused_until = time.monotonic() + self.settings.cooldown_s
                if self._state == "connecting":  # it answered, so it is there
                    self._state = "connected"
                self._last_error = describe(kind, self.where, detail, self.settings, writing=True)
                return
            was = self._state
            if was == "off":  # closed meanwhile
                return
            self._state = "auth failed" if kind in ("auth", "denied") else "down"
            self._retry_at = time.monotonic() + self.settings.cooldown_s
            self._last_error = describe(kind, self.where, detail, self.settings)
            clients = [c for c in (self._client, self._background) if c is not None]
        if was not in _UNUSABLE:
            self._enqueue(_WAKE)  # so the background thread schedules its trial
        for client in clients:
            with contextlib.suppress(Exception):  # stale connections would fail the trial; checkout reconnects
                client.connection_pool.disconnect(inuse_connections=False)

    def _ping(self) -> None:
        try:
            self._quiet().ping()
        except Exception as exc:
            self._failed(exc)
            return
        self._last_ok = time.monotonic()
        with self._lock:
            if self._state == "off":  # closed meanwhile
                return
            self._state, self._retry_at = "connected", 0.0
        with contextlib.suppress(Exception):  # open the lookups' connection too, so the next request finds it
            self._redis().ping()

    def _write(self, entry: CachedAnswer) -> None:
        with self._lock:
            skip = self._state in _UNUSABLE or time.monotonic() < self._writes_paused_until
            if skip:
                self._counts["dropped"] += 1
        if skip:
            return
        blob = seal(self._mac_key, self.namespace, entry)
        if len(blob) > MAX_BLOB:
            self._count("dropped")
            return
        try:
            self._quiet().set(self.redis_key(entry.key), blob, ex=self._ttl or None)
        except Exception as exc:
            self._failed(exc, writing=True)
            self._count("dropped")
            return
        self._connected()
        self._count("writes")

    def _enqueue(self, item: object, *, force: bool = False) -> None:
        if self._thread is None or (self._state == "off" and not force):
            return
        with self._lock:
            self._pending += 1
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self._done()  # the thread is busy and will look at the breaker anyway

    def _done(self) -> None:
        with self._idle:
            self._pending -= 1
            if not self._pending:
                self._idle.notify_all()

    def _wait_s(self) -> float | None:
        """How long the background thread may sleep: until the breaker's trial, or the next idle check."""
        with self._lock:
            state, due = self._state, self._retry_at
        if state in ("down", "auth failed"):
            return max(0.0, due - time.monotonic())
        if state == "connected":  # a check while idle, so the status bar learns of an outage without a request
            return max(0.0, self._last_ok + self.settings.cooldown_s - time.monotonic())
        return None

    def _run(self) -> None:
        while True:
            try:
                item = self._queue.get(timeout=self._wait_s())
            except queue.Empty:
                self._ping()  # the breaker's one trial, or the idle check: off the request path
                continue
            try:
                if item is _STOP or self._state == "off":
                    return
                if item is _PROBE:
                    self._ping()
                elif isinstance(item, CachedAnswer):
                    self._write(item)
            except Exception as exc:  # the thread must outlive any surprise
                self._failed(exc)
            finally:
                self._done()


_PROBE, _WAKE, _STOP = object(), object(), object()
