"""OpenAI Chat Completions (and compatible servers: OpenRouter, LiteLLM, vLLM, LM Studio), streamed over SSE;
tools as `tools` of type function, calls as streamed `tool_calls` fragments, results as `tool` messages."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from assistant.core.spec import IMAGES, TOOLS, ProviderSpec
from assistant.core.tools import ToolCall, ToolExchange, ToolSpec, arguments_json, make_call, paired
from assistant.core.types import Attachment, ChatMessage, ProviderRequest
from assistant.providers.base import ProviderContext
from assistant.providers.cloud import CloudProvider, CloudSettings, ErrorInfo, StreamParser

# Image input tokens (OpenAI's vision guide): tile models charge a base plus a price per 512 px tile of the image
# scaled to fit 2048 px and then to 768 px on its short side; patch models count 32 px patches (at most 1536).
_TILES = {"gpt-4o-mini": (2833, 5667), "gpt-5": (70, 140)}
_PATCHES = {"gpt-4.1-mini": 1.62, "gpt-4.1-nano": 2.46, "o4-mini": 1.72}


def _content(m: ChatMessage) -> str | list[dict[str, Any]]:
    """Plain text, or content parts with each image as a base64 data URL (image_url parts)."""
    if not m.images:
        return m.text
    parts: list[dict[str, Any]] = [{"type": "text", "text": m.text}] if m.text else []
    return parts + [{"type": "image_url", "image_url": {"url": f"data:{a.mime};base64,{a.base64()}"}}
                    for a in m.images]


def image_tokens(model: str, width: int, height: int) -> int:
    if not width or not height:
        return 765  # a 1024 px square with the common rule: what an unreadable header is guessed at
    patch = next((v for k, v in _PATCHES.items() if model.startswith(k)), None)
    if patch is not None:
        scale = min(1.0, math.sqrt(1536 * 32 * 32 / (width * height)))
        return math.ceil(min(1536, math.ceil(width * scale / 32) * math.ceil(height * scale / 32)) * patch)
    base, tile = next((v for k, v in _TILES.items() if model.startswith(k)), (85, 170))
    scale = min(1.0, 2048 / max(width, height))
    w, h = width * scale, height * scale
    scale = min(1.0, 768 / min(w, h))
    return base + tile * math.ceil(w * scale / 512) * math.ceil(h * scale / 512)


class OpenAIProvider(CloudProvider):
    default_base_url = "https://api.openai.com/v1"  # OPENAI_BASE_URL includes /v1, as in OpenAI's own SDK
    # The cookbook's count for chat models: 3 tokens framing each message, 3 priming the reply.
    TOKENS_PER_MESSAGE = 3
    TOKENS_PER_REQUEST = 3

    def image_tokens(self, image: Attachment, model: str) -> int:
        return image_tokens(model, image.width, image.height)

    def endpoint(self, request: ProviderRequest) -> str:
        return f"{self.base_url}/chat/completions"

    def headers(self, key: str) -> dict[str, str]:
        return {"authorization": f"Bearer {key}"}

    def body(self, request: ProviderRequest) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": request.model.model,
            "messages": [{"role": m.role, "content": _content(m)} for m in request.messages]
                        + [m for exchange in request.exchanges for m in turn_messages(exchange)],
            "stream": True,
            # Without this the stream carries no token counts and the cost would be a guess.
            "stream_options": {"include_usage": True},
        }
        # OpenAI's reasoning models accept only max_completion_tokens; compatible servers know max_tokens.
        limit_name = "max_completion_tokens" if "api.openai.com" in self.base_url else "max_tokens"
        body[limit_name] = request.settings.max_tokens
        if request.settings.temperature is not None:
            body["temperature"] = request.settings.temperature
        if request.settings.seed is not None:
            body["seed"] = request.settings.seed
        return with_tools(body, request.tools)

    def error_info(self, status: int, data: Any) -> ErrorInfo:
        error = data.get("error") if isinstance(data, dict) else None
        if isinstance(error, dict):
            code = error.get("code") or error.get("type") or ""
            return ErrorInfo(status, str(code), str(error.get("message") or ""), error.get("metadata"))
        if isinstance(error, str):  # some compatible servers send {"error": "text"}
            return ErrorInfo(status, "", error)
        return ErrorInfo(status, "", data if isinstance(data, str) else "")

    def parser(self, model: str, key: str) -> StreamParser:
        return OpenAIParser(self, model, key)


class OpenAIParser(StreamParser):
    """chat.completion.chunk events: text in choices[0].delta.content, usage in the last chunk, then [DONE]."""

    _calls: ToolStream | None = None

    def tool_calls(self) -> tuple[ToolCall, ...]:
        return self._calls.calls if self._calls is not None and self._calls.wants_tools else ()

    def feed(self, event: str, data: str) -> list[str]:
        if data.strip() == "[DONE]":
            self.complete = self.finished = True
            return []
        chunk = self.load(data)
        if chunk is None:
            return []
        if "error" in chunk:
            error = chunk["error"]
            code = str(error.get("code", "")) if isinstance(error, dict) else ""
            status = int(code) if code.isdigit() else 500
            raise self.fail(status, chunk)
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            self.input_tokens = int(usage.get("prompt_tokens") or 0)
            self.output_tokens = int(usage.get("completion_tokens") or 0)
        out: list[str] = []
        for choice in chunk.get("choices") or ():
            # Only the first choice is shown; n > 1 is never requested, but a server may still send more.
            if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            if self.tools and (delta.get("tool_calls") or (self._calls is not None and choice.get("finish_reason"))):
                self._calls = self._calls or ToolStream(self.tools)
                self._calls.feed({"choices": [choice]})
            text = delta.get("content") or delta.get("refusal")
            if isinstance(text, str) and text:
                out.append(text)
            if choice.get("finish_reason"):
                self.complete = True
        return out


# Finish reasons after which a call's arguments may be cut off: such calls are not run.
INCOMPLETE = frozenset({"length", "content_filter"})


def tool_definitions(tools: Sequence[ToolSpec]) -> list[dict[str, Any]]:
    out = []
    for spec in tools:
        function: dict[str, Any] = {"name": spec.wire_name or spec.name}
        if spec.description:
            function["description"] = spec.description
        function["parameters"] = dict(spec.input_schema) or {"type": "object", "properties": {}}
        out.append({"type": "function", "function": function})
    return out


def with_tools(body: Mapping[str, Any], tools: Sequence[ToolSpec]) -> dict[str, Any]:
    """The request body with the tools offered (unchanged when there are none: an empty list is an error)."""
    return {**body, "tools": tool_definitions(tools)} if tools else dict(body)


def turn_messages(exchange: ToolExchange) -> list[dict[str, Any]]:
    """The assistant message that made the calls, then one `tool` message per call, in the calls' order."""
    assistant: dict[str, Any] = {"role": "assistant"}
    if exchange.text:
        assistant["content"] = exchange.text
    assistant["tool_calls"] = [{"type": "function", "id": c.provider_id or c.id,
                                "function": {"name": c.wire_name, "arguments": arguments_json(c.arguments)}}
                               for c in exchange.calls]
    return [assistant] + [{"role": "tool", "tool_call_id": c.provider_id or c.id, "content": r.text}
                          for c, r in paired(exchange)]


class ToolStream:
    """Feed every chunk (`chat.completion.chunk`, or a whole non-streamed `chat.completion`); then read `calls`."""

    def __init__(self, tools: Sequence[ToolSpec]) -> None:
        self._tools = tools
        self._parts: dict[int, dict[str, str]] = {}
        self.finish_reason = ""

    def feed(self, chunk: Mapping[str, Any]) -> None:
        for choice in chunk.get("choices") or []:
            if choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or choice.get("message") or {}
            for position, fragment in enumerate(delta.get("tool_calls") or []):
                part = self._parts.setdefault(fragment.get("index", position), {"id": "", "name": "", "arguments": ""})
                function = fragment.get("function") or {}
                # Some OpenAI-compatible servers repeat the id and name in every fragment: the first one counts.
                part["id"] = part["id"] or fragment.get("id") or ""
                part["name"] = part["name"] or function.get("name") or ""
                part["arguments"] += function.get("arguments") or ""
            self.finish_reason = choice.get("finish_reason") or self.finish_reason

    @property
    def calls(self) -> tuple[ToolCall, ...]:
        return tuple(make_call(self._tools, p["id"] or f"call_{i}", p["name"], p["arguments"], p["id"])
                     for i, p in sorted(self._parts.items()))

    @property
    def wants_tools(self) -> bool:
        """The turn ended to have its calls run (some compatible servers send no `tool_calls` finish reason)."""
        return bool(self._parts) and self.finish_reason not in INCOMPLETE


SPEC = ProviderSpec(
    name="openai", label="OpenAI", local=False, section=CloudSettings, section_defaults={"model": "gpt-4o-mini"},
    key_env=("OPENAI_API_KEY",), env={"base_url": ("OPENAI_BASE_URL",)}, model_example="gpt-4o-mini",
    capabilities=frozenset({TOOLS, IMAGES}),
)


def create(context: ProviderContext) -> OpenAIProvider:
    return OpenAIProvider(context)
