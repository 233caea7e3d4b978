"""Content-addressed cache keys: "b3:" + blake3 of the canonical JSON of a provider request."""

from __future__ import annotations

import json

from assistant.engine.types import ProviderRequest

# Bump when what goes into the key changes, so old entries stop matching instead of answering wrongly.
KEY_SCHEME = 1


def canonical_request(request: ProviderRequest) -> str:
    """Sorted keys, no insignificant whitespace, normalised line endings; never a secret."""
    body = {
        "scheme": KEY_SCHEME,
        "provider": request.model.provider,
        "model": request.model.model,
        "messages": [
            {"role": m.role, "content": m.content.replace("\r\n", "\n").replace("\r", "\n")} for m in request.messages
        ],
        "settings": request.settings.as_dict(),
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def cache_key(request: ProviderRequest) -> str:
    from blake3 import blake3

    return "b3:" + blake3(canonical_request(request).encode("utf-8")).hexdigest()
