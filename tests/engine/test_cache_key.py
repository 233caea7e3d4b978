"""Cache keys: equal requests always share a key, distinct ones never do, and the JSON is canonical."""

from __future__ import annotations

import json
import random

from blake3 import blake3
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.core.cache_key import KEY_SCHEME, cache_key, canonical_request
from assistant.core.types import Attachment, ChatMessage, GenerationSettings, ModelRef, ProviderRequest

texts = st.text(st.characters(codec="utf-8"), max_size=40) | st.sampled_from(["", "a\r\nb", "a\nb", "a\rb", 'q"\\\t\x00'])
roles = st.sampled_from(["system", "user", "assistant"])
files = st.builds(lambda name, mime, data: Attachment(name, mime, data, "b3:" + blake3(data).hexdigest()),
                  texts, st.sampled_from(["text/plain", "image/png"]), st.binary(max_size=8))
messages = st.lists(st.builds(ChatMessage, roles, texts, st.none(), st.lists(files, max_size=2).map(tuple)),
                    min_size=1, max_size=4).map(tuple)
gen = st.builds(GenerationSettings, st.none() | st.floats(0, 2, allow_nan=False), st.integers(1, 4096), st.none() | st.integers(0, 9))
refs = st.builds(ModelRef, st.sampled_from(["ollama", "embedded", "openai", "gemini"]), st.sampled_from(["m", "m:latest", "gpt-4o"]))
requests = st.builds(ProviderRequest, refs, messages, gen)


def message(m: ChatMessage) -> dict[str, object]:
    out: dict[str, object] = {"role": m.role, "content": m.content.replace("\r\n", "\n").replace("\r", "\n")}
    if m.attachments:
        out["attachments"] = [{"name": a.name, "mime": a.mime, "digest": a.digest} for a in m.attachments]
    return out


def body(request: ProviderRequest, order: list[str] | None = None) -> dict[str, object]:
    """The reference body, its keys inserted in `order` (canonical JSON must not care)."""
    fields = {
        "scheme": KEY_SCHEME,
        "provider": request.model.provider,
        "model": request.model.model,
        "messages": [message(m) for m in request.messages],
        "settings": request.settings.as_dict(),
    }
    return {k: fields[k] for k in (order or list(fields))}


def reference(request: ProviderRequest, order: list[str] | None = None) -> str:
    return json.dumps(body(request, order), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@settings(max_examples=300, deadline=None)
@given(requests, st.randoms(use_true_random=False))
def test_canonical_json_is_the_sorted_compact_dump_whatever_the_key_order(request: ProviderRequest, rnd: random.Random) -> None:
    order = ["scheme", "provider", "model", "messages", "settings"]
    rnd.shuffle(order)
    assert canonical_request(request) == reference(request, order)
    assert json.loads(canonical_request(request)) == body(request)


@settings(max_examples=300, deadline=None)
@given(requests, requests)
def test_distinct_requests_never_share_a_key_and_equal_ones_always_do(a: ProviderRequest, b: ProviderRequest) -> None:
    assert (cache_key(a) == cache_key(b)) == (reference(a) == reference(b))


@settings(max_examples=200, deadline=None)
@given(requests)
def test_equal_requests_built_separately_share_a_key(request: ProviderRequest) -> None:
    rebuilt = ProviderRequest(ModelRef(request.model.provider, request.model.model),
                              tuple(ChatMessage(m.role, "".join(list(m.content)), attachments=m.attachments)
                                    for m in request.messages),
                              GenerationSettings(**request.settings.as_dict()))  # type: ignore[arg-type]
    assert cache_key(rebuilt) == cache_key(request)
    key = cache_key(request)
    assert key.startswith("b3:") and len(key) == 67 and int(key[3:], 16) >= 0


@given(st.lists(st.text(st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=20), min_size=1, max_size=5))
def test_line_endings_are_normalised(lines: list[str]) -> None:
    ref = ModelRef("openai", "gpt-4o-mini")
    unix = ProviderRequest(ref, (ChatMessage("user", "\n".join(lines)),))
    windows = ProviderRequest(ref, (ChatMessage("user", "\r\n".join(lines)),))
    old_mac = ProviderRequest(ref, (ChatMessage("user", "\r".join(lines)),))
    assert cache_key(unix) == cache_key(windows) == cache_key(old_mac)


def test_every_part_that_changes_the_answer_changes_the_key() -> None:
    ref = ModelRef("openai", "gpt-4o-mini")
    base_msgs = (ChatMessage("system", "be brief"), ChatMessage("user", "one"), ChatMessage("assistant", "1"),
                 ChatMessage("user", "two"))
    base = ProviderRequest(ref, base_msgs, GenerationSettings(0.2, 100, None))
    variants = [
        ProviderRequest(ModelRef("openai", "gpt-4o"), base_msgs, base.settings),
        ProviderRequest(ModelRef("anthropic", "gpt-4o-mini"), base_msgs, base.settings),
        ProviderRequest(ref, (ChatMessage("system", "be long"),) + base_msgs[1:], base.settings),
        ProviderRequest(ref, base_msgs[1:], base.settings),
        ProviderRequest(ref, base_msgs, GenerationSettings(0.3, 100, None)),
        ProviderRequest(ref, base_msgs, GenerationSettings(None, 100, None)),
        ProviderRequest(ref, base_msgs, GenerationSettings(0.2, 101, None)),
        ProviderRequest(ref, base_msgs, GenerationSettings(0.2, 100, 1)),
        ProviderRequest(ref, base_msgs[:2] + (ChatMessage("assistant", "2"),) + base_msgs[3:], base.settings),
        ProviderRequest(ref, (ChatMessage("user", "be brief\n\none"),) + base_msgs[2:], base.settings),
        ProviderRequest(ref, base_msgs[:3] + (ChatMessage("user", "two "),), base.settings),
    ]
    keys = {cache_key(v) for v in variants}
    assert len(keys) == len(variants) and cache_key(base) not in keys


@settings(max_examples=200, deadline=None)
@given(requests)
def test_stored_digests_give_the_key_the_text_gives(request: ProviderRequest) -> None:
    """A conversation's earlier messages carry the digest stored with them; the key must not depend on that."""
    from assistant.core.cache_key import content_digest

    with_digests = ProviderRequest(request.model, tuple(
        ChatMessage(m.role, m.content, content_digest(m.content, m.attachments), m.attachments)
        for m in request.messages), request.settings)
    assert cache_key(with_digests) == cache_key(request)


def test_a_long_conversation_hashes_digests_not_its_text() -> None:
    """The 50th question's key is built from 33 bytes per earlier message, however long they were."""
    from assistant.core.cache_key import content_digest, messages_part

    turns = tuple(ChatMessage("user" if i % 2 == 0 else "assistant", f"turn {i} " + "x" * 2000) for i in range(99))
    stored = tuple(ChatMessage(m.role, m.content, content_digest(m.content)) for m in turns)
    part = messages_part(stored + (ChatMessage("user", "and now?"),))
    assert len(part) == 100 * 33
    assert messages_part(turns + (ChatMessage("user", "and now?"),)) == part


def test_an_attachment_changes_the_key_by_its_content_type_and_name() -> None:
    def file(name: str, data: bytes, mime: str = "text/plain") -> Attachment:
        return Attachment(name, mime, data, "b3:" + blake3(data).hexdigest())

    ref = ModelRef("openai", "gpt-4o-mini")

    def key(*attachments: Attachment) -> str:
        return cache_key(ProviderRequest(ref, (ChatMessage("user", "summarise", attachments=attachments),)))

    plain = cache_key(ProviderRequest(ref, (ChatMessage("user", "summarise"),)))
    keys = {key(file("a.txt", b"one")), key(file("a.txt", b"two")), key(file("b.txt", b"one")),
            key(file("a.txt", b"one", "image/png")), key(file("a.txt", b"one"), file("b.txt", b"one")), plain}
    assert len(keys) == 6
    assert key(file("a.txt", b"one")) == key(file("a.txt", b"one"))  # the same bytes read again: a hit
    # a message without files keys as it did before attachments existed: stored answers stay valid
    assert plain == "b3:" + blake3(_header_of(ref) + b"u" + blake3(b"summarise").digest()).hexdigest()


def _header_of(ref: ModelRef) -> bytes:
    from assistant.core.cache_key import key_header

    return key_header(ref.provider, ref.model, GenerationSettings())
