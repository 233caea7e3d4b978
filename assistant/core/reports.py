"""Figures for the stats panels, `assistant stats`, `assistant cache stats` and the keys screen: apart from
the records the chat path uses (core/records.py), so that answering never creates these classes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RequestRow:
    """One request as the user saw it: every attempt's cost, and what the answer saved."""

    request_id: str
    created_at: float
    provider: str  # who answered (or the last one tried, when nothing did)
    model: str
    kind: str  # cache, local, cloud, failed, interrupted or refused (nothing was contacted: local-only, budget, all down)
    attempts: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
    saved_usd: float
    saved_source: str | None
    baseline: str | None
    estimated: bool


@dataclass(frozen=True)
class SavingsReport:
    since: float | None
    requests: int
    cache_hits: int
    local_answers: int
    cloud_answers: int
    failed: int  # no answer: every attempt failed, or nothing could be asked (refused)
    spent_usd: float
    saved_usd: float
    saved_cache_usd: float
    saved_local_usd: float
    saved_routing_usd: float
    tokens_saved: int  # tokens that never went to a paid cloud call (cache hits and local answers)
    baseline: str | None  # the model savings are measured against (the most recent one, if it changed)
    baselines: tuple[str, ...]
    estimated: bool  # some figure rests on token counts we estimated ourselves
    rows: tuple[RequestRow, ...] = ()
    interrupted: int = 0  # stopped by the user: neither answered nor failed
    saved_semantic_usd: float = 0.0  # answers to similar questions served from the semantic cache
    saved_team_usd: float = 0.0  # answers shared by the team cache


@dataclass(frozen=True)
class LatencyRow:
    provider: str
    model: str
    cached: bool
    count: int
    ttft_p50_ms: float | None
    ttft_p95_ms: float | None
    total_p50_ms: float | None
    total_p95_ms: float | None
    tokens_per_s: float | None  # median generation speed after the first token

    @property
    def name(self) -> str:
        return f"{self.provider}:{self.model}"


@dataclass(frozen=True)
class RequestPoint:
    """One answered request, for the recent-requests chart."""

    created_at: float
    provider: str
    model: str
    cached: bool
    ttft_ms: float | None
    total_ms: float
    cost_usd: float
    saved_usd: float


@dataclass(frozen=True)
class KeyStatus:
    provider: str
    present: bool
    source: str | None  # "environment (NAME)" or "keyring"
    last4: str | None

    def __repr__(self) -> str:  # the key itself is never held here, only its last four characters
        return f"KeyStatus({self.provider!r}, present={self.present}, source={self.source!r})"


@dataclass(frozen=True)
class HitWindow:
    """Cache hits and misses over a period: hits are replayed answers, misses fresh answers to requests that looked."""

    hits: int
    misses: int
    tokens_saved: int
    usd_saved: float

    @property
    def hit_rate(self) -> float | None:
        asked = self.hits + self.misses
        return self.hits / asked if asked else None


@dataclass(frozen=True)
class CacheStats:
    entries: int
    bytes: int
    database_bytes: int
    ttl_days: float
    max_entries: int
    max_bytes: int
    hot_entries: int
    all_time: HitWindow
    last_7_days: HitWindow


@dataclass(frozen=True)
class SimilarStats:
    """The similar-question tier for `cache stats`."""

    mode: str  # off, suggest or serve
    entries: int  # questions whose answers may be reused
    hits: int  # answers reused, all time
    hits_7_days: int
    saved_usd: float
    near_misses: int  # lookups where a close question was refused (a different number, name, negation, context...)
    declined: int  # offered in the chat app, and a model was asked instead
    forgotten: int  # pairs marked wrong by the user
    embedded: dict[str, int]  # questions embedded, per embedding model
    lookups: dict[str, int]  # lookups made, per embedding model that embedded them
    embedder: str | None  # the model that embeds lookups in this process (None until one was needed)
    problem: str | None  # why no embedding model could be loaded


@dataclass(frozen=True)
class PruneResult:
    expired: int = 0
    evicted: int = 0
    old_scheme: int = 0

    @property
    def removed(self) -> int:
        return self.expired + self.evicted + self.old_scheme


@dataclass(frozen=True)
class TeamStatus:
    """The team cache as the status bar and `assistant cache stats` show it; counts are this process's."""

    state: str  # off, connecting, connected, down, auth failed, misconfigured
    where: str  # the server, without credentials
    retry_in_s: float  # seconds until the next background trial while down or auth failed
    hits: int = 0
    misses: int = 0
    errors: int = 0
    tampered: int = 0  # entries rejected (forged, truncated or malformed); never served
    skipped: int = 0  # lookups answered "not here" at once: the breaker was open, or a read was still under way
    late: int = 0  # lookups the request stopped waiting for (read_timeout_ms)
    writes: int = 0
    dropped: int = 0  # answers not shared: queue full, server down or full, too big
    last_error: str = ""
    sharing: bool = False  # new answers are offered to the team

    @property
    def short(self) -> str:
        """A few words for the status bar: connected, connecting, down · retry 8s, auth failed, off."""
        if self.state in ("down", "auth failed"):
            return f"{self.state} · retry {max(1, round(self.retry_in_s))}s"
        return self.state
