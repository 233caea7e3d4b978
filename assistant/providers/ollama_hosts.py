"""Several Ollama servers behind the one Ollama provider: what each has pulled and loaded, whether it answers and
how fast, and the order a request tries them in.

The order, for a model: healthy hosts that have it before the others; among them, one that has it loaded now
(Ollama's /api/ps: no seconds spent loading it) first; then the lowest measured latency (the host's own running
first-token time for answers given here, or until it has answered, its probe round trip); then the configured
order. A host that fails a request rests for a while (the next host answers), and a probe that finds it up ends
the rest early.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from assistant.core.errors import ConfigError
from assistant.core.textsafe import for_terminal

REST_SECONDS = 30.0  # a host that failed a request is tried after the others for this long
SMOOTHING = 0.3  # weight of the newest measurement in a host's running latency


def host_port(host: str) -> tuple[str, int]:
    """Host and port of an Ollama address; a malformed one is a configuration error that says what to fix."""
    try:
        parts = urlsplit(host if "://" in host else f"http://{host}")
        port = parts.port or (443 if parts.scheme == "https" else 11434)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(host)
    except ValueError:
        raise ConfigError(f"The Ollama address '{for_terminal(host)}' is not valid; set OLLAMA_HOST (or host under "
                          "[ollama]) to host:port, e.g. 127.0.0.1:11434.") from None
    return parts.hostname, port


def base_url(host: str) -> str:
    """Ollama accepts OLLAMA_HOST=0.0.0.0:11434; the client needs a scheme."""
    return host if "://" in host else f"http://{host}"


async def tcp_reachable(url: str, timeout: float) -> bool:
    """A TCP connect, bounded by `timeout`: a down host costs at most a fraction of a second."""
    import asyncio  # not at import: the registry reads the provider's SPEC on the cached-answer fast path

    name, port = host_port(url)
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(name, port), timeout)
    except (TimeoutError, OSError):
        return False
    writer.close()
    return True


Listing = tuple[list[str], dict[str, int | None], frozenset[str], float]


async def listing(client: Any, limit: float) -> Listing:
    """What a host has pulled (/api/tags; its failure is raised) and has loaded (/api/ps, when it says), asked at
    once, and the round trip in milliseconds (the request alone: no import or client set-up)."""
    import asyncio

    started = time.perf_counter()
    tags, ps = await asyncio.wait_for(asyncio.gather(client.list(), client.ps(), return_exceptions=True), limit)
    elapsed = (time.perf_counter() - started) * 1000
    if isinstance(tags, BaseException):
        raise tags
    loaded = frozenset() if isinstance(ps, BaseException) else frozenset(m.model for m in ps.models if m.model)
    return [m.model for m in tags.models if m.model], {m.model: m.size for m in tags.models if m.model}, loaded, elapsed


def same_model(a: str, b: str) -> bool:
    """Ollama treats `name` and `name:latest` as one model."""
    return a == b or a == f"{b}:latest" or b == f"{a}:latest"


def _smoothed(old: float | None, new: float) -> float:
    return new if old is None else old + SMOOTHING * (new - old)


@dataclass
class Host:
    """One Ollama server as last seen; its numbers are this process's own."""

    url: str  # http://gpu-box:11434
    index: int  # its place in the configured list
    models: list[str] | None = None  # pulled (/api/tags); None until first probed
    sizes: dict[str, int | None] = field(default_factory=dict)
    loaded: frozenset[str] = frozenset()  # in memory now (/api/ps)
    up: bool | None = None  # None until first probed
    detail: str = ""  # why it is down
    rest_until: float = 0.0
    probe_ms: float | None = None  # running round trip of the availability probe
    first_token_ms: float | None = None  # running time to first token of answers from this host
    client: Any = None

    @property
    def label(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.hostname}:{parts.port or 11434}" if parts.hostname else self.url

    def has(self, model: str) -> bool | None:
        """Whether it has pulled the model; None while its list is unknown."""
        if self.models is None:
            return None
        return any(same_model(m, model) for m in self.models)

    def is_loaded(self, model: str) -> bool:
        return any(same_model(m, model) for m in self.loaded)

    def healthy(self, now: float) -> bool:
        return self.up is not False and now >= self.rest_until

    @property
    def latency_ms(self) -> float | None:
        return self.first_token_ms if self.first_token_ms is not None else self.probe_ms

    def summary(self) -> str:
        """A few words for listings: `gpu-box:11434 · up · 2 loaded · 35 ms`."""
        if self.up is False:
            return f"{self.label} · down"
        words = [self.label, "up" if self.up else "not probed"]
        if self.loaded:
            words.append(f"{len(self.loaded)} loaded")
        if self.latency_ms is not None:
            words.append(f"{self.latency_ms:.0f} ms")
        return " · ".join(words)


Probe = Callable[[Host], Any]  # an async function: the host's Listing, or raises


class HostPool:
    """The hosts of one provider. Not thread-safe: used from the event loop that runs the provider."""

    def __init__(self, urls: Sequence[str], clock: Callable[[], float] = time.monotonic) -> None:
        unique = list(dict.fromkeys(urls))
        self.hosts = [Host(url, i) for i, url in enumerate(unique)]
        self.clock = clock

    @property
    def first(self) -> Host:
        return self.hosts[0]

    async def refresh(self, probe: Probe, reachable: Callable[[Host], Any]) -> None:
        """Probe every host at once; one that is down costs its own probe timeout, not the others'."""
        import asyncio

        await asyncio.gather(*(self._refresh(h, probe, reachable) for h in self.hosts))

    async def _refresh(self, host: Host, probe: Probe, reachable: Callable[[Host], Any]) -> None:
        if not await reachable(host):
            host.up, host.detail = False, "not running"
            return
        try:
            host.models, host.sizes, host.loaded, elapsed = await probe(host)
        except Exception as exc:  # the caller's probe says why in its message
            host.up, host.detail = False, str(getattr(exc, "message", "")) or type(exc).__name__
            return
        host.up, host.detail, host.rest_until = True, "", 0.0
        host.probe_ms = _smoothed(host.probe_ms, elapsed)

    def up(self) -> list[Host]:
        return [h for h in self.hosts if h.up]

    def models(self) -> list[str]:
        """Every model any host that is up has pulled, once each, in host order."""
        seen: dict[str, None] = {}
        for host in self.up():
            for m in host.models or ():
                if not any(same_model(m, s) for s in seen):
                    seen[m] = None
        return list(seen)

    def order(self, model: str) -> list[Host]:
        """The hosts to try for `model`, best first; hosts known not to have it are left out."""
        now = self.clock()
        able = [h for h in self.hosts if h.has(model) is not False]

        def rank(h: Host) -> tuple[bool, bool, float, int]:
            latency = h.latency_ms
            return (not h.healthy(now), not h.is_loaded(model), latency if latency is not None else float("inf"),
                    h.index)
        return sorted(able, key=rank)

    # what requests teach ---------------------------------------------------------------------------
    def answered(self, host: Host, first_token_ms: float) -> None:
        host.first_token_ms = _smoothed(host.first_token_ms, first_token_ms)
        host.up, host.rest_until = True, 0.0

    def failed(self, host: Host, why: str, *, missing_model: str | None = None) -> None:
        """A request failed on this host before any text: rest it (or, for a model it lacks, forget the model)."""
        if missing_model is not None:
            if host.models is not None:
                host.models = [m for m in host.models if not same_model(m, missing_model)]
            return
        host.rest_until = self.clock() + REST_SECONDS
        host.detail = why
