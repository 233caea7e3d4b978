"""A fake Anthropic Messages endpoint speaking its real SSE protocol (message_start ... message_stop)."""

from __future__ import annotations

import json

from tests.fakes.cloud import CloudFake
from tests.fakes.server import Reply

PATH = "/v1/messages"


def event(name: str, data: dict[str, object]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


def message_stream(pieces: list[str], input_tokens: int = 12, output_tokens: int | None = None,
                   model: str = "claude-haiku-4-5-20251001", stop: bool = True) -> list[bytes]:
    """The events Anthropic sends for a streamed text answer."""
    out = [event("message_start", {"type": "message_start", "message": {
        "id": "msg_fake", "type": "message", "role": "assistant", "content": [], "model": model, "stop_reason": None,
        "usage": {"input_tokens": input_tokens, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 1}}}),
        event("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        event("ping", {"type": "ping"})]
    out += [event("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": p}})
            for p in pieces]
    out.append(event("content_block_stop", {"type": "content_block_stop", "index": 0}))
    final = len(pieces) if output_tokens is None else output_tokens
    out.append(event("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                                       "usage": {"output_tokens": final}}))
    if stop:
        out.append(event("message_stop", {"type": "message_stop"}))
    return out


def error_event(kind: str = "overloaded_error", message: str = "Overloaded") -> bytes:
    return event("error", {"type": "error", "error": {"details": None, "type": kind, "message": message}, "request_id": "req_fake"})


def error(status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> Reply:
    return Reply.json({"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_fake"}, status, headers)


class FakeAnthropic(CloudFake):
    path = PATH
    base_suffix = ""

    def stream(self, pieces: list[str]) -> list[bytes]:
        return message_stream(pieces)


def tool_use_stream(calls: list[tuple[str, str, dict[str, object]]], text: str = "", input_tokens: int = 377,
                    model: str = "claude-sonnet-4-20250514") -> list[bytes]:
    """A turn that ends by asking for `calls` (id, name, input), shaped like the SDK's recorded stream
    (tests/fixtures/anthropic/anthropic-sdk-python/streaming-fixtures/tool_use_response.sse): an optional text
    block, then a tool_use block per call whose input arrives as input_json_delta pieces, stop_reason "tool_use"."""
    out = [event("message_start", {"type": "message_start", "message": {
        "id": "msg_fake", "type": "message", "role": "assistant", "model": model, "content": [], "stop_reason": None,
        "stop_sequence": None, "usage": {"input_tokens": input_tokens, "cache_creation_input_tokens": 0,
                                         "cache_read_input_tokens": 0, "output_tokens": 1}}})]
    index = 0
    if text:
        out += [event("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
                event("ping", {"type": "ping"}),
                event("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}}),
                event("content_block_stop", {"type": "content_block_stop", "index": 0})]
        index = 1
    for call_id, name, arguments in calls:
        out.append(event("content_block_start", {"type": "content_block_start", "index": index, "content_block": {
            "type": "tool_use", "id": call_id, "name": name, "caller": {"type": "direct"}, "input": {}}}))
        encoded = json.dumps(arguments)
        for piece in [""] + [encoded[i:i + 7] for i in range(0, len(encoded), 7)]:
            out.append(event("content_block_delta", {"type": "content_block_delta", "index": index,
                                                     "delta": {"type": "input_json_delta", "partial_json": piece}}))
        out.append(event("content_block_stop", {"type": "content_block_stop", "index": index}))
        index += 1
    out.append(event("message_delta", {"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": None},
                                       "usage": {"output_tokens": 65}}))
    out.append(event("message_stop", {"type": "message_stop"}))
    return out
