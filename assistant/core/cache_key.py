"""Content-addressed cache keys: "b3:" + blake3 over the canonical request, built so a long conversation is cheap.

Each message is hashed once, when it is stored (its 32-byte digest is kept with it); the key of a request is then
the blake3 of a small canonical header (scheme, provider, model, settings as sorted compact JSON) followed by each
message's role and digest. So asking the 50th question of a conversation hashes about 1.7 KB, not the whole
conversation again: the key of a conversation extends the digests of its prefix.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from functools import lru_cache

from blake3 import blake3

from assistant.core.tools import ToolSpec
from assistant.core.types import Attachment, ChatMessage, GenerationSettings, ModelRef, ProviderRequest

# Bump when what goes into the key changes, so old entries stop matching instead of answering wrongly
# (and `cache prune` removes entries stored under an older scheme). Attachments did not need a bump: a message
# without any hashes as before, so every stored key stays right, and one with files hashes in its own domain.
KEY_SCHEME = 2
# A message with files is hashed by blake3's key derivation under this context: no text alone can hash the same.
_FILES_CONTEXT = "assistant 2026 message with attachments"

_ROLES = {"system": b"s", "user": b"u", "assistant": b"a"}


def normalise(content: str) -> str:
    """Line endings do not change an answer: \\r\\n and \\r count as \\n."""
    if "\r" in content:
        return content.replace("\r\n", "\n").replace("\r", "\n")
    return content


def content_digest(content: str, attachments: Sequence[Attachment] = ()) -> bytes:
    """The 32-byte blake3 of a message's text (normalised), and of its files by name, type and content hash:
    computed once, when the message is stored."""
    text = normalise(content).encode("utf-8", "surrogatepass")
    if not attachments:
        return blake3(text).digest()
    hasher = blake3(derive_key_context=_FILES_CONTEXT)
    hasher.update(len(text).to_bytes(8, "big") + text)
    for a in attachments:
        for field in (a.name, a.mime, a.digest):
            raw = field.encode("utf-8", "surrogatepass")
            hasher.update(len(raw).to_bytes(4, "big") + raw)
    return hasher.digest()


def _role(role: str) -> bytes:
    found = _ROLES.get(role)
    if found is not None:
        return found
    raw = role.encode("utf-8", "surrogatepass")
    return b"r" + len(raw).to_bytes(2, "big") + raw  # any other role, length-prefixed so it cannot blur into a digest


def messages_part(messages: Iterable[ChatMessage]) -> bytes:
    """Role and digest of each message, in order: what a request's messages contribute to its key."""
    parts = []
    for m in messages:
        parts.append(_role(m.role))
        parts.append(m.digest if m.digest is not None else content_digest(m.content, m.attachments))
    return b"".join(parts)


def _tools_body(tools: Iterable[ToolSpec]) -> list[dict[str, object]]:
    """The tools as the model sees them: name, description and parameters."""
    return [{"description": t.description, "input_schema": dict(t.input_schema), "name": t.wire_name or t.name}
            for t in tools]


def tools_part(tools: tuple[ToolSpec, ...]) -> bytes:
    """What offering tools adds to a key (nothing when none are offered): "t" and the digest of the tools, so a
    request offering tools never shares an answer with one that does not. A turn that ran a tool is never stored,
    so the calls and results of later turns are not part of any key."""
    if not tools:
        return b""
    text = json.dumps(_tools_body(tools), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return b"t" + blake3(text.encode("utf-8", "surrogatepass")).digest()


@lru_cache(maxsize=256)
def key_header(provider: str, model: str, settings: GenerationSettings) -> bytes:
    # Few (model, settings) pairs exist in a process; caching keeps json.dumps off the lookup path.
    head = {"scheme": KEY_SCHEME, "provider": provider, "model": model, "settings": settings.as_dict()}
    text = json.dumps(head, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    raw = text.encode("utf-8", "surrogatepass")
    return len(raw).to_bytes(4, "big") + raw


def key_for(ref: ModelRef, settings: GenerationSettings, part: bytes) -> str:
    """The key of one model's request, from the messages' part (computed once for every candidate model)."""
    return "b3:" + blake3(key_header(ref.provider, ref.model, settings) + part).hexdigest()


def cache_key(request: ProviderRequest) -> str:
    return key_for(request.model, request.settings, messages_part(request.messages) + tools_part(request.tools))


def canonical_request(request: ProviderRequest) -> str:
    """The request the key stands for, as readable canonical JSON (for people and tests; the key hashes digests)."""
    body = {"scheme": KEY_SCHEME, "provider": request.model.provider, "model": request.model.model,
            "settings": request.settings.as_dict(),
            "messages": [{"role": m.role, "content": normalise(m.content),
                          **({"attachments": [{"name": a.name, "mime": a.mime, "digest": a.digest}
                                              for a in m.attachments]} if m.attachments else {})}
                         for m in request.messages]}
    if request.tools:
        body["tools"] = _tools_body(request.tools)
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
