"""How close the --dry-run token count comes to what providers billed: every plain chat request recorded in
tests/fixtures (the bodies the fakes replay), rebuilt as our request and counted by the provider's count_tokens.

`python -m tests.context.token_accuracy` prints the table for the report.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.core.config import AttachmentSettings
from assistant.core.types import Attachment, ChatMessage, ModelRef, ProviderRequest
from assistant.engine.attachments import from_bytes
from tests.conftest import FIXTURES
from tests.fakes.cassettes import cassette
from tests.helpers import real_provider

# (provider, cassette, interaction): requests without tools, schemas or thinking, whose bill is the prompt alone.
CASES = [
    ("anthropic", "anthropic/llm-anthropic/test_prompt.yaml", 0),
    ("anthropic", "anthropic/llm-anthropic/test_stream_events_text.yaml", 0),
    ("anthropic", "anthropic/llm-anthropic/test_async_prompt.yaml", 1),
    ("anthropic", "anthropic/llm-anthropic/test_image_prompt.yaml", 0),
    ("anthropic", "anthropic/llm-anthropic/test_image_with_no_prompt.yaml", 0),
    *(("anthropic", "mirascope/test_caching_multi_turn_conversation/anthropic_claude_sonnet_4_0.yaml", i)
      for i in range(3)),
    ("gemini", "gemini/llm-gemini/test_prompt.yaml", 0),
    ("gemini", "gemini/llm-gemini/test_resolved_model.yaml", 0),
    *(("gemini", "mirascope/test_caching_multi_turn_conversation/google_gemini_2_5_flash.yaml", i) for i in range(3)),
    ("openai", "mirascope/test_openai_completions_provider/openai_gpt_4o_mini.yaml", 0),
    *(("openai", "mirascope/test_caching_multi_turn_conversation/openai_gpt_4o_completions.yaml", i)
      for i in range(3)),
    ("ollama", "ollama/openllmetry/test_ollama_chat_legacy.yaml", 0),
]
# The usage field each provider bills the prompt in, as our stream parsers read it.
_USAGE = {"anthropic": r'"(input_tokens|cache_creation_input_tokens|cache_read_input_tokens)"\s*:\s*(\d+)',
          "gemini": r'"(promptTokenCount)"\s*:\s*(\d+)', "openai": r'"(prompt_tokens)"\s*:\s*(\d+)',
          "ollama": r'"(prompt_eval_count)"\s*:\s*(\d+)'}


@dataclass(frozen=True)
class Row:
    provider: str
    source: str
    billed: int
    counted: int
    images: int

    @property
    def error(self) -> float:
        return (self.counted - self.billed) / self.billed


def _text(content: Any) -> tuple[str, tuple[Attachment, ...]]:
    if isinstance(content, str):
        return content, ()
    texts, images = [], []
    for part in content:
        if "text" in part:
            texts.append(part["text"])
        elif part.get("type") == "image" and part["source"].get("type") == "base64":
            data = base64.b64decode(part["source"]["data"])
            images.append(from_bytes("image", data, AttachmentSettings()))
    return "".join(texts), tuple(images)


def request_of(provider: str, body: dict[str, Any]) -> ProviderRequest:
    """The recorded body as the request our engine would have built for it."""
    messages: list[ChatMessage] = []
    system = body.get("system") or (body.get("systemInstruction") or {}).get("parts", [{}])[0].get("text")
    if system:
        messages.append(ChatMessage("system", system))
    for m in body.get("messages") or body.get("contents") or ():
        role = {"model": "assistant"}.get(m.get("role", "user"), m.get("role", "user"))
        text, images = _text(m["content"] if "content" in m else m["parts"])
        messages.append(ChatMessage(role, text, attachments=images))
    return ProviderRequest(ModelRef(provider, body.get("model") or "gemini-2.5-flash"), tuple(messages))


def billed(provider: str, body: bytes) -> int:
    """The prompt tokens of the last usage report (Anthropic's three input counts summed, as our parser does)."""
    found = re.findall(_USAGE[provider], body.decode("utf-8", "replace"))
    if provider == "anthropic":
        last_start = max(i for i, (name, _) in enumerate(found) if name == "input_tokens")
        return sum(int(v) for _, v in found[last_start:last_start + 3])
    return int(found[-1][1])


async def measure() -> list[Row]:
    rows = []
    for provider, path, index in CASES:
        recorded = cassette(FIXTURES / path)[index]
        request = request_of(provider, json.loads(recorded.request_body))
        count = await real_provider(provider).count_tokens(request)
        images = sum(len(m.images) for m in request.messages)
        rows.append(Row(provider, f"{Path(path).name}#{index}", billed(provider, recorded.body), count.tokens, images))
    return rows


def main() -> None:
    rows = asyncio.run(measure())
    print(f"{'provider':<10} {'recording':<52} {'billed':>7} {'counted':>8} {'error':>7}")
    for r in rows:
        note = f" ({r.images} image)" if r.images else ""
        print(f"{r.provider:<10} {r.source:<52} {r.billed:>7,} {r.counted:>8,} {r.error:>+7.1%}{note}")


if __name__ == "__main__":
    main()
