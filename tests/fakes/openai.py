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


def tool_calls_stream(calls: list[tuple[str, str, dict[str, object]]], text: str = "", prompt_tokens: int = 44,
                      model: str = "gpt-4o-2024-08-06") -> list[bytes]:
    """A turn that ends by asking for `calls` (id, name, arguments), shaped like the SDK's recorded stream
    (tests/fixtures/openai/openai-python-sse/2018feb66ae1.sse): the id and name in each call's first fragment,
    its arguments JSON split over later fragments, finish_reason "tool_calls", the usage chunk, [DONE]."""
    base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1727346182, "model": model}
    chunks: list[object] = []
    if text:
        chunks.append({**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": text}, "finish_reason": None}]})
    for n, (call_id, name, arguments) in enumerate(calls):
        first = {"index": n, "id": call_id, "type": "function", "function": {"name": name, "arguments": ""}}
        delta: dict[str, object] = {"tool_calls": [first]}
        if n == 0 and not text:
            delta = {"role": "assistant", "content": None, "tool_calls": [first], "refusal": None}
        chunks.append({**base, "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}]})
        encoded = json.dumps(arguments)
        for piece in (encoded[i:i + 7] for i in range(0, len(encoded), 7)):
            chunks.append({**base, "choices": [{"index": 0, "delta": {"tool_calls": [{"index": n, "function": {"arguments": piece}}]},
                                                "logprobs": None, "finish_reason": None}]})
    chunks.append({**base, "choices": [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "tool_calls"}]})
    chunks.append({**base, "choices": [], "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": 16,
                                                    "total_tokens": prompt_tokens + 16}})
    chunks.append("[DONE]")
    return sse(chunks)
