"""How a team cache entry is stored: a versioned header, an HMAC over (namespace, key, value), JSON, zlib over 1 KB.

The value is the local cache's record of an answer (CachedAnswer) without its key: the key is the Redis key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import struct
import zlib

from assistant.core.records import CachedAnswer

MAX_BLOB = 2 * 1024 * 1024  # bigger entries are not shared, and reads never fetch more than this
COMPRESS_OVER = 1024  # below this zlib saves too little to pay for its header
_MAGIC = b"AT"
_VERSION = 1
_ZLIB = 1  # flag bit: payload is zlib-compressed
_HEADER = struct.Struct(">2sBBI32s")  # magic, version, flags, payload length, HMAC-SHA256 tag


def _encode(entry: CachedAnswer) -> bytes:
    row = [entry.provider, entry.model, entry.text, entry.input_tokens, entry.output_tokens, entry.cost_usd,
           int(entry.cost_estimated), entry.ttft_ms, entry.total_ms, entry.created_at]
    return json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")


def _number(value: object, *, whole: bool = False, optional: bool = False) -> bool:
    if value is None:
        return optional
    kinds = (int,) if whole else (int, float)
    return isinstance(value, kinds) and not isinstance(value, bool)


def _decode(key: str, payload: bytes) -> CachedAnswer | None:
    try:
        row = json.loads(payload.decode("utf-8", "surrogatepass"))
        p, m, text, i, o, cost, est, ttft, total, created = row
    except (ValueError, TypeError):
        return None
    if not (isinstance(p, str) and isinstance(m, str) and isinstance(text, str)
            and all(_number(n, whole=True) for n in (i, o, est)) and _number(cost) and _number(created)
            and _number(ttft, optional=True) and _number(total, optional=True)):
        return None
    return CachedAnswer(key, p, m, text, i, o, float(cost), bool(est), ttft, total, float(created))


def team_key(secret: str | bytes) -> bytes:
    """The HMAC key, derived so the secret itself never signs anything."""
    raw = secret.encode("utf-8") if isinstance(secret, str) else secret
    return hmac.new(raw, b"assistant team cache hmac v1", hashlib.sha256).digest()


def _tag(mac_key: bytes, namespace: str, key: str, head: bytes, payload: bytes) -> bytes:
    ns, k = namespace.encode(), key.encode()
    message = b"".join((struct.pack(">I", len(ns)), ns, struct.pack(">I", len(k)), k, head, payload))
    return hmac.new(mac_key, message, hashlib.sha256).digest()


def seal(mac_key: bytes, namespace: str, entry: CachedAnswer) -> bytes:
    """The stored value: a versioned header with the payload length and an HMAC over (namespace, key, value)."""
    key = entry.key
    payload, flags = _encode(entry), 0
    if len(payload) > COMPRESS_OVER:
        packed = zlib.compress(payload, 6)
        if len(packed) < len(payload):
            payload, flags = packed, _ZLIB
    head = struct.pack(">2sBBI", _MAGIC, _VERSION, flags, len(payload))
    return _HEADER.pack(_MAGIC, _VERSION, flags, len(payload), _tag(mac_key, namespace, key, head, payload)) + payload


def unseal(mac_key: bytes, namespace: str, key: str, blob: bytes) -> CachedAnswer | str:
    """The entry, or why it was rejected: "foreign" (another format version), "truncated", "forged", "invalid"."""
    if len(blob) < _HEADER.size or blob[:2] != _MAGIC:
        return "invalid"
    _, version, flags, length, tag = _HEADER.unpack_from(blob)
    if version != _VERSION:
        return "foreign"
    payload = blob[_HEADER.size:]
    if len(payload) != length:
        return "truncated"
    if not hmac.compare_digest(tag, _tag(mac_key, namespace, key, blob[:8], payload)):
        return "forged"
    if flags & _ZLIB:
        try:
            inflater = zlib.decompressobj()
            payload = inflater.decompress(payload, MAX_BLOB * 8)
            if inflater.unconsumed_tail:
                return "invalid"
        except zlib.error:
            return "invalid"
    return _decode(key, payload) or "invalid"
