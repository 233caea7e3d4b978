"""The team cache tier: answers shared through Redis/Valkey, authenticated by the team secret, never in the way.

How the engine calls it: synchronously, from its storage (worker) thread, after the local tiers miss. A `get`
runs in the calling thread; the first time the server fails it costs at most the connect or read timeout, then
the circuit breaker is open and `get` returns None at once (about 0.4 us), without touching the network, until a
trial on the background thread (a PING every `cooldown_s`) finds the server again: no request pays for a trial.
`get_first` asks for several candidate keys in one round trip. `put` only appends to a bounded queue; one daemon
thread seals (JSON, zlib over 1 KB, HMAC) and writes. The sync client was chosen over redis-py's asyncio one
because the lookup belongs on the same worker thread as the local cache's SQLite reads, a blocking GET with a
socket timeout is the cheapest bounded call (about 35 us on loopback), and an event loop would add a hop. redis-py itself (about 100 ms to import) is imported on first use; `warm()` does that and the
first connection on the background thread (and the OS resolver, which no timeout bounds, runs there too).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import queue
import re
import struct
import threading
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import parse_qs, urlsplit

STATES = ("off", "connecting", "connected", "down", "auth failed")
SCHEMES = ("redis", "rediss", "unix")
# URL query options passed to redis-py: TLS trust and client certificates (and db for unix://), nothing else.
URL_OPTIONS = frozenset({"db", "ssl_ca_certs", "ssl_certfile", "ssl_keyfile", "ssl_cert_reqs", "ssl_check_hostname"})
WRITE_QUEUE = 256  # answers waiting to be written; a full queue drops the newest, counted
MAX_BLOB = 2 * 1024 * 1024  # bigger entries are not shared, and reads never fetch more than this
COMPRESS_OVER = 1024  # below this zlib saves too little to pay for its header
_MAGIC = b"AT"
_VERSION = 1
_ZLIB = 1  # flag bit: payload is zlib-compressed
_HEADER = struct.Struct(">2sBBI32s")  # magic, version, flags, payload length, HMAC-SHA256 tag
_NAMESPACE = re.compile(r"[A-Za-z0-9._-]{1,64}")


def _f(default: Any, doc: str, env: str = "") -> Any:
    return field(default=default, metadata={"doc": doc, "env": env})


@dataclass(frozen=True)
class TeamSettings:
    cache_url: str = _f("", "Team cache server: redis://host:6379/0, rediss:// for TLS, or unix:///path/to.sock; empty turns the team cache off. No password here: `assistant keys set team`.")
    namespace: str = _f("assistant", "Prefix of every key on the server; one per team (letters, digits, . _ -).")
    ttl_days: float = _f(30.0, "Days a shared answer lives on the server (and older ones are not used); 0 keeps them until evicted.")
    share: bool = _f(False, "Send this install's new answers to the team cache (opt-in); reading needs only cache_url.")
    connect_timeout_ms: float = _f(100.0, "Milliseconds to wait for a connection (TCP, and the TLS handshake for rediss://).")
    read_timeout_ms: float = _f(25.0, "Milliseconds to wait for the server's reply before treating it as down.")
    cooldown_s: float = _f(10.0, "Seconds the team cache is skipped after a failure before one trial in the background.")

    def problem(self) -> str | None:
        """One line saying what is wrong and how to fix it, or None."""
        if not self.cache_url:
            return None
        try:
            url = urlsplit(self.cache_url)
            _ = url.port  # raises ValueError on a bad port
        except ValueError:  # not echoed: it may hold a password
            return "team.cache_url is not a URL (is the port a number?); write redis://host:6379/0."
        if url.scheme not in SCHEMES:
            return f"team.cache_url must start with redis://, rediss:// or unix://, not {url.scheme or 'nothing'}://."
        options = parse_qs(url.query)
        if url.password is not None or "password" in options:
            return "team.cache_url must not hold a password; store it with `assistant keys set team` instead."
        unknown = sorted(set(options) - URL_OPTIONS)
        if unknown:  # e.g. socket_timeout=30 would undo the millisecond timeouts
            return f"team.cache_url: unknown option {unknown[0]!r}; allowed: {', '.join(sorted(URL_OPTIONS))}."
        if url.scheme == "unix" and not url.path:
            return "team.cache_url needs a socket path: unix:///path/to/redis.sock."
        if url.scheme != "unix" and not url.hostname:
            return "team.cache_url needs a host: redis://host:6379/0."
        if url.scheme != "unix" and not re.fullmatch(r"/?\d*", url.path):
            return "team.cache_url ends in a database number: redis://host:6379/0."
        if not _NAMESPACE.fullmatch(self.namespace):
            return f"team.namespace {self.namespace!r} must be 1-64 letters, digits, dots, dashes or underscores."
        for name in ("ttl_days", "connect_timeout_ms", "read_timeout_ms", "cooldown_s"):
            if getattr(self, name) < 0 or (name != "ttl_days" and getattr(self, name) == 0):
                return f"team.{name} must be a positive number."
        return None

    @property
    def where(self) -> str:
        """The server without credentials, for status lines."""
        url = urlsplit(self.cache_url)
        if url.scheme == "unix":
            return f"unix://{url.path}"
        return f"{url.scheme}://{url.hostname}:{url.port or 6379}{url.path if url.path not in ('', '/') else '/0'}"


class TeamConfigError(ValueError):
    """Settings that cannot work; the message is one line saying how to fix it."""


@dataclass(frozen=True)
class TeamEntry:
    """What the local cache keeps per answer, minus its key; cost_usd is the original answer's cost."""

    provider: str
    model: str
    text: str
    input_tokens: int
    output_tokens: int
    cost_usd: float
    cost_estimated: bool
    ttft_ms: float | None
    total_ms: float | None
    created_at: float

    @classmethod
    def of(cls, answer: object) -> TeamEntry:
        """From anything with these attributes, such as the local cache's CachedAnswer."""
        return cls(**{f.name: getattr(answer, f.name) for f in fields(cls)})


def _encode(entry: TeamEntry) -> bytes:
    row = [entry.provider, entry.model, entry.text, entry.input_tokens, entry.output_tokens, entry.cost_usd,
           int(entry.cost_estimated), entry.ttft_ms, entry.total_ms, entry.created_at]
    return json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")


def _decode(payload: bytes) -> TeamEntry | None:
    try:
        row = json.loads(payload.decode("utf-8", "surrogatepass"))
        p, m, text, i, o, cost, est, ttft, total, created = row
    except (ValueError, TypeError):
        return None
    numbers_ok = all(isinstance(n, int) and not isinstance(n, bool) for n in (i, o, est))
    floats_ok = all(isinstance(n, (int, float)) and not isinstance(n, bool) for n in (cost, created)) and all(
        n is None or isinstance(n, (int, float)) and not isinstance(n, bool) for n in (ttft, total))
    if not (isinstance(p, str) and isinstance(m, str) and isinstance(text, str) and numbers_ok and floats_ok):
        return None
    return TeamEntry(p, m, text, i, o, float(cost), bool(est), ttft, total, float(created))


def team_key(secret: str | bytes) -> bytes:
    """The HMAC key, derived so that the secret itself never signs anything (it may double as a password)."""
    raw = secret.encode("utf-8") if isinstance(secret, str) else secret
    return hmac.new(raw, b"assistant team cache hmac v1", hashlib.sha256).digest()


def _tag(mac_key: bytes, namespace: str, key: str, head: bytes, payload: bytes) -> bytes:
    ns, k = namespace.encode(), key.encode()
    message = b"".join((struct.pack(">I", len(ns)), ns, struct.pack(">I", len(k)), k, head, payload))
    return hmac.new(mac_key, message, hashlib.sha256).digest()


def seal(mac_key: bytes, namespace: str, key: str, entry: TeamEntry) -> bytes:
    """The stored value: a versioned header with the payload length and an HMAC over (namespace, key, value)."""
    payload, flags = _encode(entry), 0
    if len(payload) > COMPRESS_OVER:
        packed = zlib.compress(payload, 6)
        if len(packed) < len(payload):
            payload, flags = packed, _ZLIB
    head = struct.pack(">2sBBI", _MAGIC, _VERSION, flags, len(payload))
    return _HEADER.pack(_MAGIC, _VERSION, flags, len(payload), _tag(mac_key, namespace, key, head, payload)) + payload


def unseal(mac_key: bytes, namespace: str, key: str, blob: bytes) -> TeamEntry | str:
    """The entry, or why it was rejected: "foreign" (another format version), "truncated", "forged", "invalid"."""
    if len(blob) < _HEADER.size or blob[:2] != _MAGIC:
        return "invalid"
    _, version, flags, length, tag = _HEADER.unpack_from(blob)
    if version != _VERSION:
        return "foreign"
    payload = blob[_HEADER.size:]
    if len(payload) != length:
        return "truncated"
    if not hmac.compare_digest(tag, _tag(mac_key, namespace, key, blob[:8], payload)):
        return "forged"
    if flags & _ZLIB:
        try:
            inflater = zlib.decompressobj()
            payload = inflater.decompress(payload, MAX_BLOB * 8)
            if inflater.unconsumed_tail:
                return "invalid"
        except zlib.error:
            return "invalid"
    return _decode(payload) or "invalid"


@dataclass(frozen=True)
class TeamStatus:
    """What the status bar and `assistant cache stats` show."""

    state: str  # one of STATES
    where: str
    retry_in_s: float  # seconds until the next background trial while down or auth failed
    hits: int
    misses: int
    errors: int
    tampered: int  # entries rejected: forged, truncated or malformed; never served
    skipped: int  # lookups answered "not here" at once because the breaker was open
    writes: int
    dropped: int  # answers not shared: queue full, server down or full
    last_error: str

    def line(self) -> str:
        if self.state in ("down", "auth failed"):
            return f"team cache: {self.state} (retrying in {max(1, round(self.retry_in_s))} s)"
        return f"team cache: {self.state}"


def _one_line(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if len(secret) >= 4:  # shorter ones would mangle every word (and servers never echo them anyway)
            text = text.replace(secret, "***")
    text = "".join(c if c.isprintable() else " " for c in text)
    return " ".join(text.split())[:200]


class TeamCache:
    """Thread-safe. Never raises from get/put/warm/status; a failure is counted and opens the breaker."""

    def __init__(self, settings: TeamSettings, secret: str | bytes, *, password: str | None = None) -> None:
        problem = settings.problem()
        if problem:
            raise TeamConfigError(problem)
        self.settings = settings
        self.namespace = settings.namespace
        self._mac_key = team_key(secret) if secret else b""
        self._password = password
        self._secrets = tuple(s for s in (password, secret if isinstance(secret, str) else "") if s)
        self._ttl = max(1, int(settings.ttl_days * 86400)) if settings.ttl_days > 0 else 0
        self._lock = threading.Lock()
        self._client_lock = threading.Lock()  # held while redis is imported, so counters never wait for it
        self._client: Any = None
        self._state = "connecting" if settings.cache_url and secret else "off"
        self._retry_at = 0.0
        self._writes_paused_until = 0.0
        self._counts = dict.fromkeys(("hits", "misses", "errors", "tampered", "skipped", "writes", "dropped"), 0)
        self._last_error = "" if secret or not settings.cache_url else \
            "no team secret: set it with `assistant keys set team` or ASSISTANT_TEAM_SECRET"
        self._queue: queue.Queue[object] = queue.Queue(WRITE_QUEUE)
        self._pending = 0
        self._idle = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None
        if self._state != "off":
            self._thread = threading.Thread(target=self._run, name="team-cache", daemon=True)
            self._thread.start()

    @classmethod
    def from_settings(cls, settings: TeamSettings, secret: str | bytes, *, password: str | None = None) -> TeamCache | None:
        """None when no cache_url is set: the caller then skips the tier (and never imports redis)."""
        return cls(settings, secret, password=password) if settings.cache_url else None

    def redis_key(self, key: str) -> str:
        return f"{self.namespace}:{key}"

    # the request path ------------------------------------------------------------------------
    def get(self, key: str) -> TeamEntry | None:
        """The shared answer for a b3: key, or None (miss, rejected entry, or the server is not usable now)."""
        found = self.get_first((key,))
        return found[1] if found else None

    def get_first(self, keys: Sequence[str]) -> tuple[str, TeamEntry] | None:
        """The first key (in the given order) with a usable answer, asking for all of them in one round trip:
        the engine looks up every model a request could go to. One lookup in the counters, hit or miss."""
        with self._lock:
            if self._state in ("off", "down", "auth failed") or not keys:
                if self._state != "off" and keys:
                    self._counts["skipped"] += 1
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
        except Exception as exc:  # noqa: BLE001 - whatever the server or client does, the request goes on
            if len(keys) > 1 or "WRONGTYPE" not in str(exc):
                self._failed(exc)
                return None
            blobs = [exc]
        self._connected()
        now = time.time()
        for key, blob in zip(keys, blobs):
            if isinstance(blob, Exception):  # WRONGTYPE: something that is not ours sits at the key
                self._count("tampered", f"rejected a non-string value at {self.redis_key(key)}")
                continue
            found = unseal(self._mac_key, self.namespace, key, blob) if blob else "missing"
            if isinstance(found, str):
                if found not in ("missing", "foreign"):
                    self._count("tampered", f"rejected a {found} entry at {self.redis_key(key)}")
            elif not self._ttl or now - found.created_at <= self._ttl:
                self._count("hits")
                return key, found
        self._count("misses")
        return None

    def put(self, key: str, entry: TeamEntry) -> bool:
        """Queue an answer for the team (only with share on); never waits. False if it will not be sent."""
        if not self.settings.share or not entry.text.strip():
            return False
        with self._lock:
            if self._state in ("off", "down", "auth failed") or time.monotonic() < self._writes_paused_until:
                if self._state != "off":
                    self._counts["dropped"] += 1
                return False
            self._pending += 1
        try:
            self._queue.put_nowait((key, entry))
        except queue.Full:
            self._done()
            self._count("dropped")
            return False
        return True

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
            return TeamStatus(self._state, self.settings.where if self.settings.cache_url else "", retry,
                              **self._counts, last_error=self._last_error)

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
        """Give queued writes up to timeout_s, then stop the thread and close the connections."""
        if self._thread is not None:
            self.flush(timeout_s)
        with self._lock:
            self._state = "off"  # the thread stops at its next item, and nothing new is queued
            client, self._client = self._client, None
        if client is not None:  # also wakes a write stuck on a server that never answers
            client.connection_pool.disconnect()
        if self._thread is not None:
            self._enqueue(_STOP, force=True)
            self._thread.join(timeout_s)

    # internals -------------------------------------------------------------------------------
    def _redis(self) -> Any:
        client = self._client
        if client is None:
            with self._client_lock:
                if self._client is None:
                    self._client = self._make_client()
                client = self._client
        return client

    def _make_client(self) -> Any:
        import redis  # about 100 ms: paid only once a team cache is configured and used
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        s = self.settings
        # No retries (redis-py retries 3 times by default), no CLIENT SETINFO round trips on connect.
        pool = redis.ConnectionPool.from_url(
            s.cache_url, password=self._password, socket_connect_timeout=s.connect_timeout_ms / 1000,
            socket_timeout=s.read_timeout_ms / 1000, retry=Retry(NoBackoff(), 0), driver_info=None)
        return redis.Redis(connection_pool=pool)

    def _count(self, name: str, error: str = "") -> None:
        with self._lock:
            self._counts[name] += 1
            if error:
                self._last_error = error

    def _connected(self) -> None:
        if self._state == "connecting":
            with self._lock:
                if self._state == "connecting":
                    self._state = "connected"

    def _failed(self, exc: BaseException, *, writing: bool = False) -> None:
        kind = _kind(exc)
        where = self.settings.where
        detail = _one_line(str(exc) or type(exc).__name__, self._secrets)
        with self._lock:
            self._counts["errors"] += 1
            if kind == "full" or (writing and kind in ("refused", "denied")):  # e.g. a read-only ACL user
                # The server answers but will not store: reads go on, writes pause for a cool-down.
                self._writes_paused_until = time.monotonic() + self.settings.cooldown_s
                if self._state == "connecting":  # it answered, so it is there
                    self._state = "connected"
                why = "is full (maxmemory reached; use maxmemory-policy allkeys-lru)" if kind == "full" else \
                    f"will not store answers ({detail})"
                self._last_error = f"{where} {why}; sharing paused {self.settings.cooldown_s:g} s"
                return
            was = self._state
            if was == "off":  # closed meanwhile
                return
            self._state = "auth failed" if kind in ("auth", "denied") else "down"
            self._retry_at = time.monotonic() + self.settings.cooldown_s
            self._last_error = {
                "auth": f"auth failed at {where}: {detail}; check the team password (`assistant keys set team`)",
                "denied": f"{where} refused access ({detail}); check the team's ACL user and namespace",
                "timeout": f"{where} did not answer within {self.settings.read_timeout_ms:g} ms",
                "connect timeout": f"{where} took more than {self.settings.connect_timeout_ms:g} ms to connect",
            }.get(kind, f"cannot use {where}: {detail}")
            client = self._client
        if was not in ("down", "auth failed"):
            self._enqueue(_WAKE)  # so the background thread schedules its trial
        if client is not None:
            with contextlib.suppress(Exception):  # stale connections would fail the trial; checkout reconnects
                client.connection_pool.disconnect(inuse_connections=False)

    def _ping(self) -> None:
        try:
            self._redis().ping()
        except Exception as exc:  # noqa: BLE001
            self._failed(exc)
            return
        with self._lock:
            if self._state != "off":  # closed meanwhile
                self._state, self._retry_at = "connected", 0.0

    def _write(self, key: str, entry: TeamEntry) -> None:
        with self._lock:
            skip = self._state in ("down", "auth failed", "off") or time.monotonic() < self._writes_paused_until
            if skip:
                self._counts["dropped"] += 1
        if skip:
            return
        blob = seal(self._mac_key, self.namespace, key, entry)
        if len(blob) > MAX_BLOB:
            self._count("dropped")
            return
        try:
            self._redis().set(self.redis_key(key), blob, ex=self._ttl or None)
        except Exception as exc:  # noqa: BLE001
            self._failed(exc, writing=True)
            with self._lock:
                self._counts["dropped"] += 1
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

    def _run(self) -> None:
        while True:
            with self._lock:
                due = self._retry_at if self._state in ("down", "auth failed") else None
            try:
                item = self._queue.get(timeout=None if due is None else max(0.0, due - time.monotonic()))
            except queue.Empty:
                self._ping()  # the breaker's one trial, off the request path
                continue
            try:
                if item is _STOP or self._state == "off":
                    return
                if item is _PROBE:
                    self._ping()
                elif isinstance(item, tuple):
                    self._write(*item)
            except Exception as exc:  # noqa: BLE001 - the thread must outlive any surprise
                self._failed(exc)
            finally:
                self._done()


_PROBE, _WAKE, _STOP = object(), object(), object()


def _kind(exc: BaseException) -> str:
    """auth, denied (ACL), (connect) timeout, full (OOM), refused (the server answered with an error), or down."""
    names = {c.__name__ for c in type(exc).__mro__}
    if names & {"AuthenticationError", "AuthenticationWrongNumberOfArgsError"}:
        return "auth"
    if names & {"AuthorizationError", "NoPermissionError"}:
        return "denied"
    if "TimeoutError" in names:
        return "connect timeout" if "connecting" in str(exc) else "timeout"  # redis-py: "Timeout connecting to server"
    if "OutOfMemoryError" in names:
        return "full"
    if "ResponseError" in names:
        return "refused"
    return "down"
