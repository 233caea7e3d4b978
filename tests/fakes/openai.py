"""A fake OpenAI Chat Completions endpoint speaking its real SSE protocol (chunks, usage chunk, [DONE])."""

from __future__ import annotations

import json

from tests.fakes.cloud import CloudFake
from tests.fakes.server import Reply

PATH = "/v1/chat/completions"


def sse(payloads: list[object]) -> list[bytes]:
    return [b"data: " + (p.encode() if isinstance(p, str) else json.dumps(p).encode()) + b"\n\n" for p in payloads]


def chat_stream(pieces: list[str], prompt_tokens: int = 12, completion_tokens: int | None = None,
                model: str = "gpt-4o-mini-2024-07-18", usage: bool = True, done: bool = True) -> list[bytes]:
    """The chunks OpenAI sends for a streamed answer with stream_options.include_usage."""
    base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1727346180, "model": model}
    chunks: list[object] = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}]
    chunks += [{**base, "choices": [{"index": 0, "delta": {"content": p}, "finish_reason": None}]} for p in pieces]
    chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    if usage:
        out = len(pieces) if completion_tokens is None else completion_tokens
        chunks.append({**base, "choices": [], "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": out,
                                                        "total_tokens": prompt_tokens + out}})
    if done:
        chunks.append("[DONE]")
    return sse(chunks)


def error(status: int, message: str, code: str, kind: str = "invalid_request_error", headers: dict[str, str] | None = None) -> Reply:
    return Reply.json({"error": {"message": message, "type": kind, "param": None, "code": code}}, status, headers)


class FakeOpenAI(CloudFake):
    path = PATH
    base_suffix = "/v1"

    def stream(self, pieces: list[str]) -> list[bytes]:
        return chat_stream(pieces)
