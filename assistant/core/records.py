"""Records read from and written to storage, shared by the engine, the CLI and the UI as plain values."""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.core.types import Attachment


@dataclass(frozen=True)
class StoredMessage:
    id: int
    conversation_id: str
    role: str
    content: str
    status: str
    created_at: float
    provider: str | None = None
    model: str | None = None
    parent_id: int | None = None  # the message before it in its branch
    # Every alternative at this place in the conversation (edited questions, regenerated answers), oldest first.
    siblings: tuple[int, ...] = ()
    digest: bytes | None = field(default=None, compare=False, repr=False)  # blake3 of the content (cache keys)
    similarity: float | None = None  # an answer reused from a similar question: how similar it was
    similar_entry: int | None = None  # ...and which semantic-cache entry it came from
    attachments: tuple[Attachment, ...] = ()  # files sent with a user message, in order

    @property
    def alternative(self) -> int:
        """1-based position among its alternatives."""
        return self.siblings.index(self.id) + 1 if self.id in self.siblings else 1


@dataclass(frozen=True)
class StoredToolCall:
    """One tool call of an answer, as history keeps it (result as the model read it: untrusted, capped)."""

    message_id: int | None
    round: int
    seq: int
    server: str
    tool: str
    arguments: str  # JSON object
    status: str  # ok, refused, error, timeout
    approved_by: str  # trusted, --allow-tool, user once, user always, refused, or "" (never asked: unknown tool)
    result: str
    truncated: bool
    elapsed_ms: float
    created_at: float


@dataclass(frozen=True)
class SearchHit:
    conversation_id: str
    title: str
    message_id: int
    role: str
    snippet: str
    created_at: float


@dataclass(frozen=True)
class CallRecord:
    """One try at one model; a request that fell back has one row per attempt."""

    request_id: str
    conversation_id: str | None
    message_id: int | None
    provider: str
    model: str
    outcome: str  # ok, error, interrupted
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    cost_estimated: bool = False
    saved_usd: float = 0.0
    saved_source: str | None = None  # cache, local, routing
    baseline: str | None = None
    cached: bool = False
    ttft_ms: float | None = None
    total_ms: float = 0.0
    error_kind: str | None = None
    route_reason: str = ""
    cache_key: str | None = None
    similar_entry: int | None = None  # an answer to a similar question: the semantic tier's entry it came from
    similarity: float | None = None  # ...and how similar the questions were


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
class CachedAnswer:
    key: str
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


@dataclass(frozen=True)
class SalvageReport:
    """What could be copied from a damaged database into a sound one."""

    source: str
    conversations: int = 0
    messages: int = 0
    calls: int = 0
    cached: int = 0
    unreadable: int = 0  # rows (or runs of rows) that could not be read
    readable: bool = True  # False when not even the list of tables could be read
    renamed_to: str = ""  # a kept-aside copy, once recovered from, is renamed so it is no longer announced

    def summary(self) -> str:
        if not self.readable:
            return "nothing could be read from it"
        return (f"{self.conversations} conversation{'s' if self.conversations != 1 else ''} and "
                f"{self.messages} message{'s' if self.messages != 1 else ''} copied"
                + (f" ({self.unreadable} unreadable part{'s' if self.unreadable != 1 else ''} skipped)"
                   if self.unreadable else ""))
