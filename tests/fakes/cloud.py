"""Drive a real cloud provider class against a loopback fake: build it, stream a request, collect the chunks."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from assistant.core.config import NetworkSettings
from assistant.core.tools import ToolCall, ToolCalls
from assistant.core.types import ChatMessage, GenerationSettings, ModelRef, ProviderRequest, Usage
from assistant.providers.base import ProviderContext
from assistant.providers.http import SharedClient
from assistant.providers.registry import Registry
from tests.fakes.server import FakeServer, Reply, Seen

KEY = "sk-test-Zq7uNQ3xKpL0wR5tY8vB2cD4"


@dataclass
class Outcome:
    texts: list[str]
    usage: Usage | None
    error: BaseException | None
    calls: tuple[ToolCall, ...] = ()  # what the model's turn ended by asking for

    @property
    def text(self) -> str:
        return "".join(self.texts)


def context(name: str, base_url: str, client: SharedClient, key: str | None, read_timeout: float = 5.0,
            **network: Any) -> ProviderContext:
    """The context the engine would give the real provider, with its base URL pointed at a fake."""
    spec = Registry().spec(name)
    section = dataclasses.replace(spec.default_section(), base_url=base_url)
    net = NetworkSettings(**{"connect_timeout": 2.0, "read_timeout": read_timeout, **network})
    return ProviderContext(spec, section, net, client, lambda: key)


def request(name: str, model: str = "", prompt: str = "What is the capital of France?", system: str | None = None,
            temperature: float | None = None, max_tokens: int = 200) -> ProviderRequest:
    messages = ((ChatMessage("system", system),) if system else ()) + (ChatMessage("user", prompt),)
    default = Registry().spec(name).default_section().model
    return ProviderRequest(ModelRef(name, model or default), messages,
                           GenerationSettings(temperature=temperature, max_tokens=max_tokens))


async def run(name: str, base_url: str, req: ProviderRequest | None = None, key: str | None = KEY, **net: Any) -> Outcome:
    """Stream one request through the registry's real provider class over a fresh shared client."""
    network = NetworkSettings(**{"connect_timeout": 2.0, "read_timeout": net.pop("read_timeout", 5.0), **net})
    client = SharedClient(network)
    registry = Registry()
    registry.bind(lambda spec: dataclasses.replace(context(name, base_url, client, key), network=network))
    provider = registry.get(name)
    texts: list[str] = []
    usage: Usage | None = None
    calls: tuple[ToolCall, ...] = ()
    error: BaseException | None = None
    try:
        async for chunk in provider.stream(req or request(name)):
            if isinstance(chunk, Usage):
                assert usage is None, "a provider yields exactly one Usage"
                usage = chunk
            elif isinstance(chunk, ToolCalls):
                assert usage is None and not calls, "one ToolCalls, before the Usage"
                calls = chunk.calls
            else:
                assert usage is None and not calls, "text after the calls or the Usage"
                texts.append(chunk)
    except Exception as exc:  # the contract: only ProviderError subclasses; tests assert on the type
        error = exc
    finally:
        await client.aclose()
    return Outcome(texts, usage, error, calls)


class CloudFake(FakeServer):
    """One cloud endpoint: answers every request with `pieces` in the provider's stream format, or plays `replies`."""

    path = ""
    base_suffix = ""  # what the provider's base URL adds to the server's address (OpenAI's /v1)

    def __init__(self, pieces: list[str] | None = None, replies: list[Reply] | None = None) -> None:
        self.pieces = pieces or ["Paris", " is the", " capital."]
        super().__init__({("POST", self.path): replies if replies else self._answer})

    def stream(self, pieces: list[str]) -> list[bytes]:
        raise NotImplementedError

    def _answer(self, seen: Seen) -> Reply:
        return Reply(200, self.stream(self.pieces), content_type="text/event-stream")

    @property
    def base_url(self) -> str:
        return self.url + self.base_suffix
