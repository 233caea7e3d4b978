"""Anthropic Messages API, streamed over SSE (message_start ... message_stop, error events mid-stream)."""

from __future__ import annotations

from typing import Any

from assistant.core.spec import ProviderSpec
from assistant.core.types import ProviderRequest
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


class AnthropicProvider(CloudProvider):
    default_base_url = "https://api.anthropic.com"  # ANTHROPIC_BASE_URL excludes /v1, as in Anthropic's SDK

    def endpoint(self, request: ProviderRequest) -> str:
        return f"{self.base_url}/v1/messages"

    def headers(self, key: str) -> dict[str, str]:
        return {"x-api-key": key, "anthropic-version": API_VERSION}

    def body(self, request: ProviderRequest) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": request.model.model,
            "max_tokens": request.settings.max_tokens,  # required by the Messages API
            "messages": [{"role": m.role, "content": m.content} for m in request.turns],
            "stream": True,
        }
        if request.system:
            body["system"] = request.system
        if request.settings.temperature is not None:
            body["temperature"] = min(max(request.settings.temperature, 0.0), _MAX_TEMPERATURE)
        return body

    def error_info(self, status: int, data: Any) -> ErrorInfo:
        error = data.get("error") if isinstance(data, dict) else None
        if isinstance(error, dict):
            return ErrorInfo(status, str(error.get("type") or ""), str(error.get("message") or ""))
        return ErrorInfo(status, "", data if isinstance(data, str) else "")

    def parser(self, model: str, key: str) -> StreamParser:
        return AnthropicParser(self, model, key)


class AnthropicParser(StreamParser):
    """Input tokens arrive in message_start, output tokens (cumulative) in message_delta; message_stop ends it."""

    def feed(self, event: str, data: str) -> list[str]:
        payload = None if event == "ping" else self.load(data)
        if payload is None:
            return []
        kind = payload.get("type") or event
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


SPEC = ProviderSpec(
    name="anthropic", label="Anthropic", local=False, section=CloudSettings, section_defaults={"model": "claude-haiku-4-5"},
    key_env=("ANTHROPIC_API_KEY",), env={"base_url": ("ANTHROPIC_BASE_URL",)}, model_example="claude-haiku-4-5",
)


def create(context: ProviderContext) -> AnthropicProvider:
    return AnthropicProvider(context)
