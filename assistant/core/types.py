"""Frozen value types shared by every layer: model names, attachments, requests, usage, answers."""

from __future__ import annotations

import base64
from collections.abc import Collection
from dataclasses import dataclass, field

from assistant.core.errors import UsageError
from assistant.core.tools import ToolExchange, ToolResult, ToolSpec


@dataclass(frozen=True)
class ModelRef:
    """A model named as provider:model."""

    provider: str
    model: str

    def __str__(self) -> str:
        return f"{self.provider}:{self.model}"

    @classmethod
    def parse(cls, text: str, known_providers: Collection[str] = ()) -> ModelRef:
        provider, sep, model = text.strip().partition(":")
        if not sep or not provider or not model:
            raise UsageError(f"'{text}' is not a model name; use provider:model, e.g. ollama:llama3.2 or embedded:smollm2.")
        if known_providers and provider not in known_providers:
            raise UsageError(f"Unknown provider '{provider}' in '{text}'; choose one of {', '.join(sorted(known_providers))}.")
        return cls(provider, model)


@dataclass(frozen=True)
class Attachment:
    """A file sent with a prompt: text (put in the message, labelled with its name) or an image; known by its hash."""

    name: str  # as the user gave it (a path), shown to the model and in history
    mime: str  # text/plain, or one of media.IMAGE_TYPES
    data: bytes = field(repr=False)
    digest: str = ""  # "b3:" + blake3 of data: what the cache key and the history store use
    width: int = 0  # images only, in pixels (for the token estimate)
    height: int = 0

    @property
    def is_image(self) -> bool:
        return self.mime.startswith("image/")

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", "replace").removeprefix("\ufeff")

    def base64(self) -> str:
        return base64.b64encode(self.data).decode("ascii")


def labelled(attachment: Attachment) -> str:
    """A text file as the model sees it: wrapped in tags that carry its name, so several files stay apart."""
    name = attachment.name.replace('"', "'")
    body = attachment.text
    end = "" if body.endswith("\n") else "\n"
    return f'<file name="{name}">\n{body}{end}</file>'


@dataclass(frozen=True)
class ChatMessage:
    role: str  # "system", "user" or "assistant"
    content: str
    # blake3 of the content, when known (stored with the message): keys of long conversations then hash digests only.
    digest: bytes | None = field(default=None, compare=False, repr=False)
    attachments: tuple[Attachment, ...] = ()

    @property
    def text(self) -> str:
        """The content with the text files first, each labelled with its name (documents before the question)."""
        files = [labelled(a) for a in self.attachments if not a.is_image]
        if not files:
            return self.content
        return "\n\n".join(files + ([self.content] if self.content else []))

    @property
    def images(self) -> tuple[Attachment, ...]:
        return tuple(a for a in self.attachments if a.is_image)


@dataclass(frozen=True)
class GenerationSettings:
    """Every setting that changes the output; all of them are part of the cache key."""

    temperature: float | None = None
    max_tokens: int = 1024
    seed: int | None = None

    def as_dict(self) -> dict[str, object]:
        return {"temperature": self.temperature, "max_tokens": self.max_tokens, "seed": self.seed}


@dataclass(frozen=True)
class ToolUse:
    """How a request may use the configured MCP tools, and who says yes to each call."""

    enabled: bool = True  # offer the tools of the configured servers (False: --no-tools)
    allowed: tuple[str, ...] = ()  # `--allow-tool` names: a tool's name or server.tool
    # True when the caller answers ToolCallRequested events (the TUI's dialog); otherwise a call runs only when
    # trusted or allowed, and any other is refused with a line saying how to allow it.
    ask: bool = False


@dataclass(frozen=True)
class ChatRequest:
    """What the user asked: the new prompt plus everything that shapes the answer."""

    prompt: str
    model: ModelRef | None = None
    system: str | None = None
    settings: GenerationSettings = GenerationSettings()
    conversation_id: str | None = None
    use_cache: bool = True
    local_only: bool = False
    # Regenerate: answer the last question of the conversation again; the earlier answer stays as an alternative.
    regenerate: bool = False
    # Edit: this prompt replaces the earlier question with this message id, as a new branch beside it (the old
    # branch stays reachable); everything after that question is left out of the context.
    edit_of: int | None = None
    # Kept out of everything shared beyond this machine (the team cache); a conversation once private stays so.
    private: bool = False
    tools: ToolUse = ToolUse()
    # Answers to similar (not identical) questions: "off" (not looked up), "suggest" (the consumer asks the user,
    # see events.SimilarFound) or "serve" (used at once). Engine.new_request resolves it from [cache] semantic.
    semantic: str = "off"
    # Earlier turns of a new conversation given whole (`ask --messages`): user and assistant turns, in order.
    prior: tuple[ChatMessage, ...] = ()
    attachments: tuple[Attachment, ...] = ()  # files and images sent with this prompt


@dataclass(frozen=True)
class ProviderRequest:
    """The exact request sent to one provider: full message list, system prompt first; then, when the model has
    asked for tools in this answer, each round of calls and results (in the provider's own format on the wire)."""

    model: ModelRef
    messages: tuple[ChatMessage, ...]
    settings: GenerationSettings = GenerationSettings()
    tools: tuple[ToolSpec, ...] = ()  # offered to the model; part of the cache key
    exchanges: tuple[ToolExchange, ...] = ()

    @property
    def system(self) -> str | None:
        parts = [m.content for m in self.messages if m.role == "system"]
        return "\n\n".join(parts) if parts else None

    @property
    def turns(self) -> tuple[ChatMessage, ...]:
        return tuple(m for m in self.messages if m.role != "system")

    @property
    def has_images(self) -> bool:
        return any(a.is_image for m in self.messages for a in m.attachments)


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    # True when the provider did not report usage and we counted it ourselves.
    estimated: bool = False

    @property
    def total(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True)
class ModelInfo:
    """A model the app knows of, and whether it can answer right now."""

    ref: ModelRef
    available: bool
    detail: str = ""
    local: bool = False
    size: str = ""
    where: str = ""  # which server of its provider has it, for listings (Ollama: a host, its state and latency)


@dataclass(frozen=True)
class Attempt:
    """One try at one provider, kept so fallbacks can be explained and audited."""

    ref: ModelRef
    error_kind: str | None
    message: str
    elapsed_ms: float


@dataclass(frozen=True)
class Answer:
    """The final result of one request, as the CLI's --json prints it."""

    text: str
    provider: str
    model: str
    cached: bool
    usage: Usage
    cost_usd: float
    saved_usd: float
    ttft_ms: float | None
    total_ms: float
    conversation_id: str
    message_id: int | None = None
    route_reason: str = ""
    cost_estimated: bool = False
    attempts: tuple[Attempt, ...] = field(default=())
    # From the answering model's first try to its last token (its retries included); ttft_ms counts from there too.
    answer_ms: float | None = None
    cache: str | None = None  # which cache tier answered: "exact", "team" or "semantic"; None for a fresh answer
    similarity: float | None = None  # a similar (not identical) question's answer: how similar
    similar_prompt: str | None = None  # ...and the earlier question it answered
    tool_results: tuple[ToolResult, ...] = ()  # every call the model asked for, in order, refused ones included
    tools_ms: float = 0.0  # wall time spent running tool calls (calls of one turn run side by side)

    @property
    def tokens_per_second(self) -> float | None:
        # A replayed answer was not generated now, so it has no generation speed.
        if self.cached:
            return None
        # Time spent running tools is not generation time.
        return tokens_per_second(self.usage.output_tokens, self.ttft_ms,
                                 (self.answer_ms if self.answer_ms is not None else self.total_ms) - self.tools_ms)

    def as_json(self) -> dict[str, object]:
        return {
            "text": self.text,
            "provider": self.provider,
            "model": self.model,
            "cached": self.cached,
            "cache": self.cache,
            "input_tokens": self.usage.input_tokens,
            "output_tokens": self.usage.output_tokens,
            "cost_usd": round(self.cost_usd, 8),
            "saved_usd": round(self.saved_usd, 8),
            "cost_estimated": self.cost_estimated,
            "ttft_ms": None if self.ttft_ms is None else round(self.ttft_ms, 2),
            "total_ms": round(self.total_ms, 2),
            "conversation_id": self.conversation_id,
            "route": self.route_reason,
            "attempts": [
                {"model": str(a.ref), "error": a.error_kind, "message": a.message, "elapsed_ms": round(a.elapsed_ms, 1)}
                for a in self.attempts
            ],
            "message_id": self.message_id,
            **({"similarity": round(self.similarity, 4), "similar_prompt": self.similar_prompt}
               if self.similarity is not None else {}),
            "tool_calls": [
                {"server": r.server, "tool": r.tool, "arguments": dict(r.arguments), "status": r.status,
                 "approved_by": r.approved_by, "elapsed_ms": round(r.elapsed_ms, 1), "result": r.text}
                for r in self.tool_results
            ],
            "tools_ms": round(self.tools_ms, 1),
        }


@dataclass(frozen=True)
class RoutePreview:
    """Which model would answer a request now, and why, found without sending anything."""

    ref: ModelRef | None  # None: nothing can answer (`reason` says why and how to fix it)
    reason: str  # e.g. "embedded:smollm2 - local"
    local: bool = False
    notes: tuple[str, ...] = ()  # models left out and why, e.g. "Ollama is not running ... - answering with ..."


@dataclass(frozen=True)
class Estimate:
    """What a request would send and could cost, before it is sent; with the route when one was planned."""

    ref: ModelRef | None  # the model the figures are for (the one that would answer now)
    prompt_tokens: int  # the new question, its files and images included
    context_tokens: int  # the system prompt and the earlier turns sent with it
    max_output_tokens: int  # the longest answer the request allows
    context_window: int | None  # the model's window in tokens, when known
    cost_low: float | None  # the input alone (an empty answer); None when the model has no known price
    cost_high: float | None  # the input and the longest answer allowed
    estimated: bool = True  # False when counted by the model's own tokenizer, on this machine
    images: int = 0  # images in the request (earlier turns' too)
    local: bool = False  # the model runs on this machine: free
    route: tuple[str, ...] = ()  # each planned model with why, in the order they would be tried (route=True only)
    skipped: tuple[str, ...] = ()  # models left out of that route, and why
    warnings: tuple[str, ...] = ()  # the window or the monthly budget would be passed, the named model is down
    refusal: str = ""  # why the request would be refused before anything is sent

    @property
    def input_tokens(self) -> int:
        return self.prompt_tokens + self.context_tokens

    @property
    def over_window(self) -> bool:
        """The question and its context alone do not fit the model's window."""
        return self.context_window is not None and self.input_tokens > self.context_window


def tokens_per_second(output_tokens: int, ttft_ms: float | None, total_ms: float | None) -> float | None:
    """Generation speed after the first token: the one definition the chat, the panels and `latency` use."""
    if ttft_ms is None or total_ms is None or output_tokens < 2 or total_ms <= ttft_ms:
        return None
    return (output_tokens - 1) / ((total_ms - ttft_ms) / 1000)
