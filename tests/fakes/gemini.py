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
