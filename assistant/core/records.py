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
