"""Content-addressed cache keys: "b3:" + blake3 of the canonical JSON of a provider request."""

from __future__ import annotations

import json
from functools import lru_cache
from json.encoder import encode_basestring  # C: what json.dumps(s, ensure_ascii=False) writes for one string

from blake3 import blake3

from assistant.core.types import GenerationSettings, ProviderRequest

# Bump when what goes into the key changes, so old entries stop matching instead of answering wrongly
# (and `cache prune` removes entries stored under an older scheme).
KEY_SCHEME = 1

# Bytes JSON must escape. UTF-8 continuation bytes are all >= 0x80, so testing the encoded bytes is exact.
_ESCAPED = bytes(range(0x20)) + b'"\\'
_ESCAPED_BUT_NEWLINE = _ESCAPED.replace(b"\n", b"")
_SCHEME = b',"scheme":%d,"settings":' % KEY_SCHEME
# The quotes around each content string live in these constant pieces, so a plain string is never copied twice.
_ROLES = {role: f'","role":"{role}"}}'.encode() for role in ("system", "user", "assistant")}


def _inner(text: str, raw: bytes) -> bytes:
    """The inside of a JSON string that needs escapes (json's per-character encoder costs 2 ns a character)."""
    if len(raw.translate(None, _ESCAPED_BUT_NEWLINE)) == len(raw):
        return raw.replace(b"\n", b"\\n")
    return encode_basestring(text)[1:-1].encode("utf-8", "surrogatepass")


def _string(text: str) -> bytes:
    raw = text.encode("utf-8", "surrogatepass")
    return b'"' + (raw if len(raw.translate(None, _ESCAPED)) == len(raw) else _inner(text, raw)) + b'"'


_NAMES: dict[str, bytes] = {}


def _name(text: str) -> bytes:
    """Provider and model names repeat on every lookup; remember their JSON (a bounded handful)."""
    found = _NAMES.get(text)
    if found is None:
        found = _string(text)
        if len(_NAMES) < 1024:
            _NAMES[text] = found
    return found


@lru_cache(maxsize=64)
def _settings_json(settings: GenerationSettings) -> bytes:
    # Few distinct settings objects exist in a process; caching keeps json.dumps off the lookup path.
    return json.dumps(settings.as_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode()


def canonical_bytes(request: ProviderRequest) -> bytes:
    """Sorted keys, no insignificant whitespace, normalised line endings, UTF-8; never a secret.

    Written out by hand because json.dumps(sort_keys=True) costs more than the whole hot-tier lookup; the
    result is byte-for-byte json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False) of
    the body {scheme, provider, model, messages: [{role, content}], settings} (a property test holds it to that).
    """
    parts = [b'{"messages":[']
    opening = b'{"content":"'
    for m in request.messages:
        content = m.content
        if "\r" in content:
            content = content.replace("\r\n", "\n").replace("\r", "\n")
        raw = content.encode("utf-8", "surrogatepass")
        if len(raw.translate(None, _ESCAPED)) != len(raw):
            raw = _inner(content, raw)
        parts += (opening, raw, _ROLES.get(m.role) or b'","role":' + _string(m.role) + b"}")
        opening = b',{"content":"'
    parts += (b'],"model":', _name(request.model.model), b',"provider":', _name(request.model.provider),
              _SCHEME, _settings_json(request.settings), b"}")
    return b"".join(parts)


def canonical_request(request: ProviderRequest) -> str:
    return canonical_bytes(request).decode("utf-8", "surrogatepass")


def cache_key(request: ProviderRequest) -> str:
    return "b3:" + blake3(canonical_bytes(request)).hexdigest()
