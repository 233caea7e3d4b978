"""A fake Gemini streamGenerateContent?alt=sse endpoint speaking its real protocol."""

from __future__ import annotations

import json

from tests.fakes.cloud import CloudFake
from tests.fakes.server import Reply

PATH = "/v1beta/models/"


def content_stream(pieces: list[str], prompt_tokens: int = 12, output_tokens: int | None = None, thoughts: int = 0,
                   finish: bool = True) -> list[bytes]:
    """Gemini's SSE frames: usageMetadata on every chunk, the last one authoritative, finishReason at the end."""
    out = []
    for i, piece in enumerate(pieces):
        last = i == len(pieces) - 1
        candidate: dict[str, object] = {"content": {"parts": [{"text": piece}], "role": "model"}, "index": 0}
        usage: dict[str, object] = {"promptTokenCount": prompt_tokens, "totalTokenCount": prompt_tokens}
        if last:
            final = len(pieces) if output_tokens is None else output_tokens
            usage = {"promptTokenCount": prompt_tokens, "candidatesTokenCount": final,
                     "totalTokenCount": prompt_tokens + final + thoughts}
            if thoughts:
                usage["thoughtsTokenCount"] = thoughts
            if finish:
                candidate["finishReason"] = "STOP"
        chunk = {"candidates": [candidate], "usageMetadata": usage, "modelVersion": "gemini-2.5-flash", "responseId": "fake"}
        out.append(b"data: " + json.dumps(chunk).encode() + b"\r\n\r\n")
    return out


def error(status: int, google_status: str, message: str, headers: dict[str, str] | None = None) -> Reply:
    return Reply.json({"error": {"code": status, "message": message, "status": google_status}}, status, headers)


class FakeGemini(CloudFake):
    path = PATH
    base_suffix = ""

    def stream(self, pieces: list[str]) -> list[bytes]:
        return content_stream(pieces)


def function_call_stream(calls: list[tuple[str, dict[str, object]]], text: str = "", signature: str = "c2lnbmF0dXJl",
                         prompt_tokens: int = 29) -> list[bytes]:
    """A turn that ends by asking for `calls` (name, args), shaped like the recorded alt=sse stream
    (tests/fixtures/pydantic-ai/gemini/test_google_streaming_tool_call_thought_signature.yaml): the functionCall
    parts whole (the first with a thoughtSignature), then an empty text part with finishReason STOP."""
    parts: list[dict[str, object]] = [{"text": text}] if text else []
    for n, (name, args) in enumerate(calls):
        part: dict[str, object] = {"functionCall": {"name": name, "args": args}}
        if n == 0 and signature:
            part["thoughtSignature"] = signature
        parts.append(part)
    usage = {"promptTokenCount": prompt_tokens, "candidatesTokenCount": 10, "totalTokenCount": prompt_tokens + 10}
    first = {"candidates": [{"content": {"parts": parts, "role": "model"}, "index": 0}], "usageMetadata": usage,
             "modelVersion": "gemini-2.5-flash", "responseId": "fake"}
    last = {"candidates": [{"content": {"parts": [{"text": ""}], "role": "model"}, "finishReason": "STOP", "index": 0}],
            "usageMetadata": usage, "modelVersion": "gemini-2.5-flash", "responseId": "fake"}
    return [b"data: " + json.dumps(chunk).encode() + b"\r\n\r\n" for chunk in (first, last)]
