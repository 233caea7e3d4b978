"""OpenAI Chat Completions (and compatible servers: OpenRouter, LiteLLM, vLLM, LM Studio), streamed over SSE."""

from __future__ import annotations

from typing import Any

from assistant.core.spec import ProviderSpec
from assistant.core.types import ProviderRequest
from assistant.providers.base import ProviderContext
from assistant.providers.cloud import CloudProvider, CloudSettings, ErrorInfo, StreamParser


class OpenAIProvider(CloudProvider):
    default_base_url = "https://api.openai.com/v1"  # OPENAI_BASE_URL includes /v1, as in OpenAI's own SDK

    def endpoint(self, request: ProviderRequest) -> str:
        return f"{self.base_url}/chat/completions"

    def headers(self, key: str) -> dict[str, str]:
        return {"authorization": f"Bearer {key}"}

    def body(self, request: ProviderRequest) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": request.model.model,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
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
        return body

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
            text = delta.get("content") or delta.get("refusal")
            if isinstance(text, str) and text:
                out.append(text)
            if choice.get("finish_reason"):
                self.complete = True
        return out


SPEC = ProviderSpec(
    name="openai", label="OpenAI", local=False, section=CloudSettings, section_defaults={"model": "gpt-4o-mini"},
    key_env=("OPENAI_API_KEY",), env={"base_url": ("OPENAI_BASE_URL",)}, model_example="gpt-4o-mini",
)


def create(context: ProviderContext) -> OpenAIProvider:
    return OpenAIProvider(context)
