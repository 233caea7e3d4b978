"""Read the shared real recordings (vcrpy cassettes, SDK snapshots, raw .sse files) into replayable Replies."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.fakes.server import Reply

# Headers that describe the recorded transfer, not the content: the fake re-frames and re-encodes the body.
_TRANSPORT = {"content-encoding", "content-length", "transfer-encoding", "connection", "content-type"}


@dataclass(frozen=True)
class Recorded:
    """One recorded exchange: the request as sent, and the response body as bytes after any gzip."""

    method: str
    uri: str
    request_body: str
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "application/json")

    def reply(self, chunk_size: int = 0) -> Reply:
        """Serve the body as recorded; `chunk_size` splits it so events straddle network reads."""
        chunks = [self.body[i:i + chunk_size] for i in range(0, len(self.body), chunk_size)] if chunk_size else [self.body]
        extra = {k: v for k, v in self.headers.items() if k not in _TRANSPORT and k != "date"}
        return Reply(self.status, chunks, extra, content_type=self.content_type)


def _body_bytes(body: Any) -> bytes:
    if isinstance(body, dict):
        if "parsed_body" in body:
            return json.dumps(body["parsed_body"]).encode()
        body = body.get("string", b"")
    raw = body.encode() if isinstance(body, str) else bytes(body or b"")
    return gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw


def _first(value: Any) -> str:
    return str(value[0] if isinstance(value, list) and value else value)


def cassette(path: Path) -> list[Recorded]:
    """Every interaction of a vcrpy cassette (including pydantic-ai's parsed_body variant)."""
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    out = []
    for item in data["interactions"]:
        req, resp = item["request"], item["response"]
        body = req.get("body") or req.get("parsed_body") or ""
        out.append(Recorded(
            req["method"], req["uri"], body if isinstance(body, str) else json.dumps(body),
            int(resp["status"]["code"]), {k.lower(): _first(v) for k, v in (resp.get("headers") or {}).items()},
            _body_bytes(resp.get("body") if "parsed_body" not in resp else {"parsed_body": resp["parsed_body"]}),
        ))
    return out


def snapshot(path: Path) -> list[Recorded]:
    """The Anthropic SDK's recorded http snapshots: a JSON list of request/response pairs."""
    out = []
    for item in json.loads(path.read_text(encoding="utf-8")):
        req, resp = item["request"], item["response"]
        body = resp["body"]
        raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        out.append(Recorded(req["method"], req["url"], json.dumps(req.get("body")), int(resp["status_code"]),
                            {k.lower(): str(v) for k, v in resp["headers"].items()}, raw))
    return out


def sse_file(path: Path) -> Recorded:
    """A raw .sse body, served as a 200 event stream."""
    return Recorded("POST", "", "", 200, {"content-type": "text/event-stream"}, path.read_bytes())


def json_array_as_sse(body: bytes) -> bytes:
    """Gemini without alt=sse answers one JSON array; the same chunks framed as the alt=sse stream sends them."""
    return b"".join(b"data: " + json.dumps(chunk).encode() + b"\r\n\r\n" for chunk in json.loads(body))
