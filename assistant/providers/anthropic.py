"""Anthropic Messages API, streamed over SSE (message_start ... message_stop, error events mid-stream); tools with
`input_schema`, calls as `tool_use` blocks streamed as `input_json_delta`, results as `tool_result` blocks."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from assistant.core.spec import IMAGES, TOOLS, ProviderSpec
from assistant.core.tools import ToolCall, ToolExchange, ToolSpec, make_call, paired
from assistant.core.types import Attachment, ChatMessage, ProviderRequest
from assistant.providers.base import ProviderContext
from assistant.providers.cloud import CloudProvider, CloudSettings, ErrorInfo, StreamParser

API_VERSION = "2023-06-01"
# Anthropic's temperature range is 0..1; other providers allow up to 2.
_MAX_TEMPERATURE = 1.0
# Error types Anthropic sends in bodies and in mid-stream `error` events, as HTTP statuses.
_ERROR_STATUS = {
    "invalid_request_error": 400, "authentication_error": 401, "billing_error": 402, "permission_error": 403,
    "not_found_error": 404, "request_too_large": 413, "rate_limit_error": 429, "api_error": 500,
    "timeout_error": 504, "overloaded_error": 529,
}


# Anthropic's vision guide: images are scaled to at most 1568 px on the long edge (and about 1.15 megapixels),
# then cost width * height / 750 tokens.
_LONG_EDGE = 1568
_MAX_PIXELS = 1_150_000


def _content(m: ChatMessage) -> str | list[dict[str, Any]]:
    """Plain text, or image blocks (base64 source) followed by the text, as Anthropic's examples order them."""
    if not m.images:
        return m.text
    blocks: list[dict[str, Any]] = [
        {"type": "image", "source": {"type": "base64", "media_type": a.mime, "data": a.base64()}} for a in m.images]
    # An empty text block is refused by the API; an image alone is a valid message.
    return blocks + ([{"type": "text", "text": m.text}] if m.text else [])


def image_tokens(width: int, height: int) -> int:
    if not width or not height:
        return 1590  # the documented cost of the largest image that is not scaled down
    scale = min(1.0, _LONG_EDGE / max(width, height), math.sqrt(_MAX_PIXELS / (width * height)))
    return math.ceil(width * scale * height * scale / 750)


class AnthropicProvider(CloudProvider):
    default_base_url = "https://api.anthropic.com"  # ANTHROPIC_BASE_URL excludes /v1, as in Anthropic's SDK
    # Fitted to the recorded usage in tests/fixtures (a one-word prompt is billed about 7 tokens more).
    TOKENS_PER_MESSAGE = 3
    TOKENS_PER_REQUEST = 4

    def image_tokens(self, image: Attachment, model: str) -> int:
        return image_tokens(image.width, image.height)

    def endpoint(self, request: ProviderRequest) -> str:
        return f"{self.base_url}/v1/messages"

    def headers(self, key: str) -> dict[str, str]:
        return {"x-api-key": key, "anthropic-version": API_VERSION}

    def body(self, request: ProviderRequest) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": request.model.model,
            "max_tokens": request.settings.max_tokens,  # required by the Messages API
            "messages": [{"role": m.role, "content": _content(m)} for m in request.turns]
                        + [m for exchange in request.exchanges for m in turn_messages(exchange)],
            "stream": True,
        }
        if request.system:
            body["system"] = request.system
        if request.settings.temperature is not None:
            body["temperature"] = min(max(request.settings.temperature, 0.0), _MAX_TEMPERATURE)
        return with_tools(body, request.tools)

    def error_info(self, status: int, data: Any) -> ErrorInfo:
        error = data.get("error") if isinstance(data, dict) else None
        if isinstance(error, dict):
            return ErrorInfo(status, str(error.get("type") or ""), str(error.get("message") or ""))
        return ErrorInfo(status, "", data if isinstance(data, str) else "")

    def parser(self, model: str, key: str) -> StreamParser:
        return AnthropicParser(self, model, key)


class AnthropicParser(StreamParser):
    """Input tokens arrive in message_start, output tokens (cumulative) in message_delta; message_stop ends it."""

    _calls: ToolStream | None = None

    def tool_calls(self) -> tuple[ToolCall, ...]:
        return self._calls.calls if self._calls is not None and self._calls.wants_tools else ()

    def feed(self, event: str, data: str) -> list[str]:
        payload = None if event == "ping" else self.load(data)
        if payload is None:
            return []
        kind = payload.get("type") or event
        if self.tools and kind in ("content_block_start", "content_block_delta", "message_delta"):
            self._calls = self._calls or ToolStream(self.tools)
            self._calls.feed(payload)
        if kind == "content_block_delta":
            delta = payload.get("delta") or {}
            # Thinking, signatures and tool-input JSON are not part of the answer text.
            if delta.get("type") == "text_delta" and delta.get("text"):
                return [str(delta["text"])]
        elif kind == "message_start":
            self._take_usage((payload.get("message") or {}).get("usage"))
        elif kind == "message_delta":
            self._take_usage(payload.get("usage"))
        elif kind == "message_stop":
            self.complete = self.finished = True
        elif kind == "error":
            error = payload.get("error") or {}
            raise self.fail(_ERROR_STATUS.get(str(error.get("type")), 500), payload)
        return []

    def _take_usage(self, usage: Any) -> None:
        if not isinstance(usage, dict):
            return
        if usage.get("input_tokens") is not None:
            # Cached prompt tokens are reported apart from input_tokens; all of them were part of the prompt.
            # message_delta may repeat the count without the cache fields, so a later, smaller sum is ignored.
            total = sum(int(usage.get(k) or 0) for k in
                        ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"))
            self.input_tokens = max(total, self.input_tokens or 0)
        if usage.get("output_tokens") is not None:
            self.output_tokens = int(usage["output_tokens"])


INCOMPLETE = frozenset({"max_tokens", "refusal"})


def with_tools(body: Mapping[str, Any], tools: Sequence[ToolSpec]) -> dict[str, Any]:
    """The request body with the tools offered."""
    if not tools:
        return dict(body)
    return {**body, "tools": [{"name": t.wire_name or t.name, "description": t.description,
                               "input_schema": dict(t.input_schema) or {"type": "object", "properties": {}}}
                              for t in tools]}


def turn_messages(exchange: ToolExchange) -> list[dict[str, Any]]:
    """The assistant turn (its text, then a `tool_use` block per call), then one user turn holding every
    `tool_result`, failed and refused ones marked `is_error`."""
    text = exchange.text
    content: list[dict[str, Any]] = [{"type": "text", "text": text}] if text.strip() else []  # empty text is rejected
    content += [{"type": "tool_use", "id": c.provider_id or c.id, "name": c.wire_name, "input": dict(c.arguments)}
                for c in exchange.calls]
    answers: list[dict[str, Any]] = []
    for call, result in paired(exchange):
        block: dict[str, Any] = {"type": "tool_result", "tool_use_id": call.provider_id or call.id, "content": result.text}
        if not result.ok:
            block["is_error"] = True
        answers.append(block)
    return [{"role": "assistant", "content": content}, {"role": "user", "content": answers}]


class ToolStream:
    """Feed every SSE event's data (or a whole non-streamed `message`); then read `calls`."""

    def __init__(self, tools: Sequence[ToolSpec]) -> None:
        self._tools = tools
        self._blocks: dict[int, dict[str, Any]] = {}
        self.stop_reason = ""

    def _start(self, index: int, block: Mapping[str, Any]) -> None:
        if block.get("type") == "tool_use":  # server tools (server_tool_use) run at Anthropic, not here
            self._blocks[index] = {"id": block.get("id") or "", "name": block.get("name") or "", "json": "",
                                   "input": block.get("input")}

    def feed(self, event: Mapping[str, Any]) -> None:
        kind = event.get("type")
        if kind == "content_block_start":
            self._start(event.get("index", len(self._blocks)), event.get("content_block") or {})
        elif kind == "content_block_delta":
            delta = event.get("delta") or {}
            block = self._blocks.get(event.get("index", -1))
            if block is not None and delta.get("type") == "input_json_delta":
                block["json"] += delta.get("partial_json") or ""
        elif kind == "message_delta":
            self.stop_reason = (event.get("delta") or {}).get("stop_reason") or self.stop_reason
        elif kind == "message":  # not streamed: the blocks arrive whole
            for index, block in enumerate(event.get("content") or []):
                self._start(index, block)
            self.stop_reason = event.get("stop_reason") or ""

    @property
    def calls(self) -> tuple[ToolCall, ...]:
        return tuple(make_call(self._tools, b["id"] or f"toolu_{i}", b["name"],
                               b["json"] if b["json"].strip() else b["input"], b["id"])
                     for i, b in sorted(self._blocks.items()))

    @property
    def wants_tools(self) -> bool:
        return bool(self._blocks) and self.stop_reason not in INCOMPLETE


SPEC = ProviderSpec(
    name="anthropic", label="Anthropic", local=False, section=CloudSettings, section_defaults={"model": "claude-haiku-4-5"},
    key_env=("ANTHROPIC_API_KEY",), env={"base_url": ("ANTHROPIC_BASE_URL",)}, model_example="claude-haiku-4-5",
    capabilities=frozenset({TOOLS, IMAGES}),
)


def create(context: ProviderContext) -> AnthropicProvider:
    return AnthropicProvider(context)
