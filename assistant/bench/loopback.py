"""A minimal loopback Ollama server for benchmarks: pre-rendered NDJSON streams sent as fast as the socket takes them."""

from __future__ import annotations

import json
import socket
import threading


def ollama_chat_body(model: str, tokens: int) -> bytes:
    """One NDJSON line per token, then Ollama's closing line with usage, exactly as /api/chat streams it."""
    lines = [
        json.dumps({"model": model, "created_at": "2024-05-24T20:57:43Z",
                    "message": {"role": "assistant", "content": f" w{i}"}, "done": False})
        for i in range(tokens)
    ]
    lines.append(json.dumps({"model": model, "created_at": "2024-05-24T20:57:44Z",
                             "message": {"role": "assistant", "content": ""}, "done": True, "done_reason": "stop",
                             "total_duration": 1000, "load_duration": 10, "prompt_eval_count": 12, "eval_count": tokens}))
    return ("\n".join(lines) + "\n").encode()


def ollama_tags_body(model: str) -> bytes:
    return json.dumps({"models": [{"name": model, "model": model, "modified_at": "2024-05-24T20:57:43Z", "size": 1,
                                   "digest": "0", "details": {"format": "gguf", "family": "llama"}}]}).encode()


class LoopbackOllama:
    """Serves GET /api/tags and POST /api/chat on 127.0.0.1 with keep-alive; every chat gets the same stream."""

    def __init__(self, model: str = "bench:latest", tokens: int = 1000) -> None:
        self.model = model
        self.tokens = tokens
        self._closed = False
        self.chat = self._response(ollama_chat_body(self.model, self.tokens), "application/x-ndjson")
        self.tags = self._response(ollama_tags_body(self.model), "application/json")
        self._sock = socket.create_server(("127.0.0.1", 0))

    @staticmethod
    def _response(body: bytes, content_type: str) -> bytes:
        head = f"HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncontent-length: {len(body)}\r\n\r\n"
        return head.encode() + body

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    def _serve_connection(self, conn: socket.socket) -> None:
        buf = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in buf:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                head, _, buf = buf.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value.strip())
                while len(buf) < length:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                buf = buf[length:]
                conn.sendall(self.tags if head.startswith(b"GET /api/tags") else self.chat)

    def _accept(self) -> None:
        while not self._closed:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            t = threading.Thread(target=self._serve_connection, args=(conn,), daemon=True)
            t.start()

    def __enter__(self) -> LoopbackOllama:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closed = True
        self._sock.close()
