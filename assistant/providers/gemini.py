"""Google Gemini streamGenerateContent with alt=sse; the key goes in a header, never in the URL. Tools as
`functionDeclarations`, calls as `functionCall` parts (with thought signatures), results as `functionResponse`."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from assistant.core.spec import IMAGES, TOOLS, ProviderSpec
from assistant.core.tools import ToolCall, ToolExchange, ToolSpec, make_call, paired
from assistant.core.types import Attachment, ChatMessage, ProviderRequest
from assistant.providers.base import ProviderContext
from assistant.providers.cloud import CloudProvider, CloudSettings, ErrorInfo, StreamParser, safe_path

# Google's canonical error statuses, as HTTP codes, for errors that arrive inside the stream.
_STATUS_CODES = {
    "INVALID_ARGUMENT": 400, "FAILED_PRECONDITION": 400, "UNAUTHENTICATED": 401, "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404, "RESOURCE_EXHAUSTED": 429, "INTERNAL": 500, "UNAVAILABLE": 503, "DEADLINE_EXCEEDED": 504,
}


def _parts(m: ChatMessage) -> list[dict[str, Any]]:
    """The text part, then each image inline (inlineData: its MIME type and base64 bytes)."""
    parts: list[dict[str, Any]] = [{"text": m.text}] if m.text or not m.images else []
    return parts + [{"inlineData": {"mimeType": a.mime, "data": a.base64()}} for a in m.images]


def image_tokens(width: int, height: int) -> int:
    """Gemini's rule: 258 tokens when both sides are at most 384 px, else 258 for each 768 px tile."""
    if width <= 384 and height <= 384:
        return 258
    return 258 * math.ceil(width / 768) * math.ceil(height / 768)


class GeminiProvider(CloudProvider):
    default_base_url = "https://generativelanguage.googleapis.com"
    # Fitted to the recorded usage in tests/fixtures: "hi" is billed 2 tokens.
    TOKENS_PER_MESSAGE = 0
    TOKENS_PER_REQUEST = 1

    def image_tokens(self, image: Attachment, model: str) -> int:
        return image_tokens(image.width, image.height)

    def endpoint(self, request: ProviderRequest) -> str:
        base = self.base_url
        # GEMINI_BASE_URL may be given with or without the API version.
        if not base.rsplit("/", 1)[-1].startswith(("v1beta", "v1")):
            base += "/v1beta"
        model = safe_path(request.model.model.removeprefix("models/"))
        return f"{base}/models/{model}:streamGenerateContent?alt=sse"

    def headers(self, key: str) -> dict[str, str]:
        return {"x-goog-api-key": key}

    def body(self, request: ProviderRequest) -> dict[str, Any]:
        config: dict[str, Any] = {"maxOutputTokens": request.settings.max_tokens}
        if request.settings.temperature is not None:
            config["temperature"] = request.settings.temperature
        if request.settings.seed is not None:
            config["seed"] = request.settings.seed
        body: dict[str, Any] = {
            "contents": [{"role": "model" if m.role == "assistant" else "user", "parts": _parts(m)}
                         for m in request.turns] + [m for exchange in request.exchanges for m in turn_messages(exchange)],
            "generationConfig": config,
        }
        if request.system:
            body["systemInstruction"] = {"parts": [{"text": request.system}]}
        return with_tools(body, request.tools)

    def error_info(self, status: int, data: Any) -> ErrorInfo:
        if isinstance(data, list) and data:  # errors may come wrapped in a one-element array
            data = data[0]
        error = data.get("error") if isinstance(data, dict) else None
        if isinstance(error, dict):
            details = error.get("details")
            reasons = [d.get("reason") for d in details if isinstance(d, dict) and d.get("reason")] if isinstance(details, list) else []
            code = str(reasons[0] if reasons else error.get("status") or "")
            return ErrorInfo(status, code, str(error.get("message") or ""), details)
        return ErrorInfo(status, "", data if isinstance(data, str) else "")

    def parser(self, model: str, key: str) -> StreamParser:
        return GeminiParser(self, model, key)


class GeminiParser(StreamParser):
    """Each event is a GenerateContentResponse; the last usageMetadata is the bill; finishReason ends it."""

    _calls: ToolStream | None = None

    def tool_calls(self) -> tuple[ToolCall, ...]:
        return self._calls.calls if self._calls is not None and self._calls.wants_tools else ()

    def feed(self, event: str, data: str) -> list[str]:
        chunk = self.load(data)
        if chunk is None:
            return []
        if self.tools:
            self._calls = self._calls or ToolStream(self.tools)
            self._calls.feed(chunk)
        if "error" in chunk:
            error = chunk["error"] if isinstance(chunk["error"], dict) else {}
            code = error.get("code")
            status = code if isinstance(code, int) else _STATUS_CODES.get(str(error.get("status")), 500)
            raise self.fail(status, chunk)
        usage = chunk.get("usageMetadata")
        if isinstance(usage, dict):
            self.input_tokens = int(usage.get("promptTokenCount") or 0)
            # Thinking tokens are billed as output but are not included in candidatesTokenCount.
            self.output_tokens = int(usage.get("candidatesTokenCount") or 0) + int(usage.get("thoughtsTokenCount") or 0)
        out: list[str] = []
        candidates = chunk.get("candidates") or []
        first = candidates[0] if candidates and isinstance(candidates[0], dict) else {}
        for part in (first.get("content") or {}).get("parts") or ():
            if isinstance(part, dict) and part.get("text") and not part.get("thought"):
                out.append(str(part["text"]))
        if first.get("finishReason"):
            self.complete = True
        feedback = chunk.get("promptFeedback")
        if isinstance(feedback, dict) and feedback.get("blockReason") and not candidates:
            raise self.fail(400, {"error": {"status": "BLOCKED", "message": f"the prompt was blocked ({feedback['blockReason']})"}})
        return out


INCOMPLETE = frozenset({"MAX_TOKENS", "SAFETY", "RECITATION", "MALFORMED_FUNCTION_CALL", "PROHIBITED_CONTENT"})


def with_tools(body: Mapping[str, Any], tools: Sequence[ToolSpec]) -> dict[str, Any]:
    """The request body with the tools offered; `parametersJsonSchema` takes MCP's JSON Schema as it is (the older
    `parameters` field accepts only an OpenAPI subset and rejects keys such as `additionalProperties`)."""
    if not tools:
        return dict(body)
    declarations = []
    for spec in tools:
        declaration: dict[str, Any] = {"name": spec.wire_name or spec.name}
        if spec.description:
            declaration["description"] = spec.description
        declaration["parametersJsonSchema"] = dict(spec.input_schema) or {"type": "object", "properties": {}}
        declarations.append(declaration)
    return {**body, "tools": [{"functionDeclarations": declarations}]}


def turn_messages(exchange: ToolExchange) -> list[dict[str, Any]]:
    """The model turn (its text, then a `functionCall` part per call with its thought signature echoed, which
    Gemini 3 requires), then one user turn with a `functionResponse` part per call."""
    parts: list[dict[str, Any]] = [{"text": exchange.text}] if exchange.text else []
    for call in exchange.calls:
        function_call: dict[str, Any] = {"name": call.wire_name, "args": dict(call.arguments)}
        if call.provider_id:
            function_call["id"] = call.provider_id
        part: dict[str, Any] = {"functionCall": function_call}
        if call.signature:
            part["thoughtSignature"] = call.signature
        parts.append(part)
    answers = []
    for call, result in paired(exchange):
        response: dict[str, Any] = {"name": call.wire_name,
                                    "response": {"output": result.text} if result.ok else {"error": result.text}}
        if call.provider_id:
            response["id"] = call.provider_id
        answers.append({"functionResponse": response})
    return [{"role": "model", "parts": parts}, {"role": "user", "parts": answers}]


class ToolStream:
    """Feed every streamed GenerateContentResponse (an alt=sse event, or one element of the JSON array)."""

    def __init__(self, tools: Sequence[ToolSpec]) -> None:
        self._tools = tools
        self._raw: list[dict[str, Any]] = []
        self.finish_reason = ""

    def feed(self, chunk: Mapping[str, Any]) -> None:
        for candidate in chunk.get("candidates") or []:
            if candidate.get("index", 0) != 0:
                continue
            for part in (candidate.get("content") or {}).get("parts") or []:
                call = part.get("functionCall") or part.get("function_call")
                if call:
                    signature = part.get("thoughtSignature") or part.get("thought_signature") or ""
                    self._raw.append({"call": call, "signature": signature})
            self.finish_reason = candidate.get("finishReason") or self.finish_reason

    @property
    def calls(self) -> tuple[ToolCall, ...]:
        out = []
        for n, raw in enumerate(self._raw):
            call, provider_id = raw["call"], str(raw["call"].get("id") or "")
            out.append(make_call(self._tools, provider_id or f"gemini_call_{n}", call.get("name") or "",
                                 call.get("args"), provider_id, raw["signature"]))
        return tuple(out)

    @property
    def wants_tools(self) -> bool:
        """Gemini ends a turn with calls with finishReason STOP; a cut-off or blocked turn is not run."""
        return bool(self._raw) and self.finish_reason not in INCOMPLETE


SPEC = ProviderSpec(
    name="gemini", label="Gemini", local=False, section=CloudSettings, section_defaults={"model": "gemini-2.5-flash"},
    key_env=("GEMINI_API_KEY", "GOOGLE_API_KEY"), env={"base_url": ("GEMINI_BASE_URL",)}, model_example="gemini-2.5-flash",
    capabilities=frozenset({TOOLS, IMAGES}),
)


def create(context: ProviderContext) -> GeminiProvider:
    return GeminiProvider(context)
