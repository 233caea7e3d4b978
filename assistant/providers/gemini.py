"""Google Gemini streamGenerateContent with alt=sse; the key goes in a header, never in the URL."""

from __future__ import annotations

from typing import Any

from assistant.core.spec import ProviderSpec
from assistant.core.types import ProviderRequest
from assistant.providers.base import ProviderContext
from assistant.providers.cloud import CloudProvider, CloudSettings, ErrorInfo, StreamParser, safe_path

# Google's canonical error statuses, as HTTP codes, for errors that arrive inside the stream.
_STATUS_CODES = {
    "INVALID_ARGUMENT": 400, "FAILED_PRECONDITION": 400, "UNAUTHENTICATED": 401, "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404, "RESOURCE_EXHAUSTED": 429, "INTERNAL": 500, "UNAVAILABLE": 503, "DEADLINE_EXCEEDED": 504,
}


class GeminiProvider(CloudProvider):
    default_base_url = "https://generativelanguage.googleapis.com"

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
            "contents": [{"role": "model" if m.role == "assistant" else "user", "parts": [{"text": m.content}]}
                         for m in request.turns],
            "generationConfig": config,
        }
        if request.system:
            body["systemInstruction"] = {"parts": [{"text": request.system}]}
        return body

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

    def feed(self, event: str, data: str) -> list[str]:
        chunk = self.load(data)
        if chunk is None:
            return []
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


SPEC = ProviderSpec(
    name="gemini", label="Gemini", local=False, section=CloudSettings, section_defaults={"model": "gemini-2.5-flash"},
    key_env=("GEMINI_API_KEY", "GOOGLE_API_KEY"), env={"base_url": ("GEMINI_BASE_URL",)}, model_example="gemini-2.5-flash",
)


def create(context: ProviderContext) -> GeminiProvider:
    return GeminiProvider(context)
