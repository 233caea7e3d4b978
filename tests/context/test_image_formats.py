"""Each provider's image request, as sent by the real provider class to its loopback fake, checked against the
provider's own recorded or documented shape; a text-only message keeps its plain form."""

from __future__ import annotations

import base64
import json
import re

import yaml

from assistant.core.config import AttachmentSettings
from assistant.core.types import ChatMessage, GenerationSettings, ModelRef, ProviderRequest
from assistant.engine.attachments import from_bytes
from tests.conftest import FIXTURES
from tests.context.images import IMAGE_CASSETTE, PNG_166x282
from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.cassettes import cassette
from tests.fakes.cloud import run
from tests.fakes.gemini import FakeGemini
from tests.fakes.ollama import FakeOllama
from tests.fakes.openai import FakeOpenAI
from tests.helpers import real_provider

PHOTO = from_bytes("photo.png", PNG_166x282, AttachmentSettings())
B64 = base64.b64encode(PNG_166x282).decode()


def image_request(provider: str, model: str, prompt: str) -> ProviderRequest:
    return ProviderRequest(ModelRef(provider, model), (ChatMessage("user", prompt, attachments=(PHOTO,)),),
                           GenerationSettings(temperature=1.0, max_tokens=8192))


async def test_anthropic_sends_the_recorded_image_block() -> None:
    """llm-anthropic's real request: the base64 image block, then the text, in one user message."""
    recorded = cassette(IMAGE_CASSETTE)[0]
    with FakeAnthropic(replies=[recorded.reply()]) as fake:
        outcome = await run("anthropic", fake.base_url, image_request("anthropic", "claude-sonnet-4-5",
                                                                      "Describe image in three words"))
    sent = fake.seen[-1].json()
    expected = json.loads(recorded.request_body)
    assert sent["messages"] == expected["messages"]  # byte for byte the blocks Anthropic was really sent
    assert outcome.error is None and outcome.text == "Red square, green square."


async def test_anthropic_sends_an_image_alone_without_an_empty_text_block() -> None:
    recorded = cassette(FIXTURES / "anthropic" / "llm-anthropic" / "test_image_with_no_prompt.yaml")[0]
    with FakeAnthropic(replies=[recorded.reply()]) as fake:
        await run("anthropic", fake.base_url, image_request("anthropic", "claude-sonnet-4-5", ""))
    sent_blocks = fake.seen[-1].json()["messages"][0]["content"]
    recorded_blocks = json.loads(recorded.request_body)["messages"][0]["content"]
    assert [b["type"] for b in sent_blocks] == ["image"] and sent_blocks[0] == recorded_blocks[0]


async def test_openai_sends_a_data_url_image_part() -> None:
    """openai-python's ChatCompletionContentPartImageParam: {"type": "image_url", "image_url": {"url": ...}}, with
    base64 given as a data: URL; the text goes in its own {"type": "text"} part."""
    with FakeOpenAI() as fake:
        outcome = await run("openai", fake.base_url, image_request("openai", "gpt-4o-mini", "What is this?"))
    content = fake.seen[-1].json()["messages"][0]["content"]
    assert content == [{"type": "text", "text": "What is this?"},
                       {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{B64}"}}]
    assert outcome.error is None


async def test_gemini_sends_inline_data_after_the_text() -> None:
    """The shape of llm-gemini's recorded request (test_cli_gemini_generate_with_single_attachment, commit c93b690):
    parts [{"text": ...}, {"inlineData": {"data": base64, "mimeType": "image/png"}}], in contents as the text-only
    recording (test_prompt_with_multiple_dogs) has them."""
    recorded = cassette(FIXTURES / "gemini" / "llm-gemini" / "test_prompt_with_multiple_dogs.yaml")[0]
    with FakeGemini() as fake:
        outcome = await run("gemini", fake.base_url, image_request("gemini", "gemini-2.5-flash", "Invent 3 cool dogs"))
    sent = fake.seen[-1].json()
    text_only = json.loads(recorded.request_body)["contents"]
    assert sent["contents"][0]["role"] == text_only[0]["role"] and sent["contents"][0]["parts"][0] == text_only[0]["parts"][0]
    assert sent["contents"][0]["parts"][1] == {"inlineData": {"mimeType": "image/png", "data": B64}}
    assert outcome.error is None


def _documented_ollama_image_message() -> dict[str, object]:
    """The "Images" example of /api/chat in Ollama's openapi.yaml (a curl command with a JSON body)."""
    spec = yaml.safe_load((FIXTURES / "ollama" / "ollama-docs" / "openapi.yaml").read_text(encoding="utf-8"))
    samples = spec["paths"]["/api/chat"]["post"]["x-codeSamples"]
    source = next(s["source"] for s in samples if s["label"] == "Images")
    body = json.loads(re.search(r"-d '(.*)'", source, re.S).group(1))  # type: ignore[union-attr]
    return body["messages"][0]


async def test_ollama_sends_images_beside_the_content_as_documented() -> None:
    documented = _documented_ollama_image_message()
    with FakeOllama(models=["llava:latest"]) as fake:
        provider = real_provider("ollama", host=fake.url)
        texts = [c async for c in provider.stream(image_request("ollama", "llava:latest", "What is in this image?"))
                 if isinstance(c, str)]
        await provider.aclose()
    sent = fake.seen[-1].json()["messages"][0]
    assert set(sent) == set(documented) and sent["content"] == documented["content"]
    assert sent["images"] == [B64] and all(isinstance(i, str) for i in documented["images"])  # type: ignore[union-attr]
    assert "".join(texts) == "Paris is the capital."


async def test_text_only_messages_keep_their_plain_string_form() -> None:
    plain = ProviderRequest(ModelRef("openai", "gpt-4o-mini"), (ChatMessage("user", "hi"),))
    with FakeOpenAI() as fake:
        await run("openai", fake.base_url, plain)
    assert fake.seen[-1].json()["messages"] == [{"role": "user", "content": "hi"}]
