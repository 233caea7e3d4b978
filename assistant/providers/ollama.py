"""Local models served by Ollama, through the official ollama AsyncClient; tools for the models whose
/api/show capabilities include "tools", calls arriving whole in `message.tool_calls`, results as `tool` messages."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from assistant.core.config import setting
from assistant.core.errors import (
    ConfigError,
    ConnectionLost,
    MalformedResponse,
    ModelNotFound,
    Overloaded,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    ToolsUnsupported,
)
from assistant.core.spec import TOOLS, ProviderSpec
from assistant.core.textsafe import for_terminal, one_line
from assistant.core.tools import ToolCall, ToolCalls, ToolExchange, ToolSpec, make_call, paired
from assistant.core.types import ModelInfo, ModelRef, ProviderRequest, Usage
from assistant.providers.base import Availability, Chunk, Provider, ProviderContext


@dataclass(frozen=True)
class OllamaSettings:
    host: str = setting("http://127.0.0.1:11434", "Where Ollama listens.", "OLLAMA_HOST")
    model: str = setting("llama3.2", "Ollama model preferred when several are pulled.")
    probe_timeout: float = setting(0.25, "Seconds to wait when checking whether Ollama is up.", lo=0.01, hi=30)
    keep_alive: str = setting("5m", "How long Ollama keeps the model loaded after a request.")


def host_port(host: str) -> tuple[str, int]:
    """Host and port of an Ollama address; a malformed one is a configuration error that says what to fix."""
    try:
        parts = urlsplit(host if "://" in host else f"http://{host}")
        port = parts.port or (443 if parts.scheme == "https" else 11434)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(host)
    except ValueError:
        raise ConfigError(f"The Ollama address '{for_terminal(host)}' is not valid; set OLLAMA_HOST (or host under "
                          "[ollama]) to host:port, e.g. 127.0.0.1:11434.") from None
    return parts.hostname, port


def base_url(host: str) -> str:
    """Ollama accepts OLLAMA_HOST=0.0.0.0:11434; the client needs a scheme."""
    return host if "://" in host else f"http://{host}"


def _size(num: int | None) -> str:
    return f"{num / 1e9:.1f} GB" if num else ""


class OllamaProvider(Provider):
    def __init__(self, context: ProviderContext) -> None:
        super().__init__(context)
        self.config: OllamaSettings = context.section
        self.host = base_url(self.config.host)
        self._client: Any = None
        self._pulled: list[str] | None = None
        self._sizes: dict[str, int | None] = {}
        self._tool_models: dict[str, bool] = {}  # model -> /api/show lists "tools" among its capabilities

    def _get_client(self) -> Any:
        if self._client is None:
            import httpx
            import ollama

            host_port(self.host)  # a malformed address fails here with a line that says what to fix
            timeout = httpx.Timeout(self.context.network.read_timeout, connect=self.config.probe_timeout * 4)
            self._client = ollama.AsyncClient(host=self.host, timeout=timeout)
        return self._client

    def _down(self) -> ProviderUnavailable:
        return ProviderUnavailable(
            f"Ollama is not running at {self.host}; start it with `ollama serve` (or set OLLAMA_HOST).", provider=self.name
        )

    async def reachable(self) -> bool:
        """A TCP connect, bounded by probe_timeout: a down Ollama costs at most a fraction of a second."""
        import asyncio

        host, port = host_port(self.host)
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), self.config.probe_timeout)
        except (TimeoutError, OSError):
            return False
        writer.close()
        return True

    async def pulled_models(self) -> list[str]:
        import asyncio

        if not await self.reachable():
            raise self._down()
        try:
            response = await asyncio.wait_for(self._get_client().list(), max(1.0, self.config.probe_timeout * 8))
        except Exception as exc:
            raise self._translate(exc, None) from exc
        self._pulled = [m.model for m in response.models if m.model]
        self._sizes = {m.model: m.size for m in response.models}
        return self._pulled

    async def availability(self) -> Availability:
        try:
            models = await self.pulled_models()
        except ProviderError as exc:
            return Availability(False, exc.message)
        if not models:
            return Availability(False, f"Ollama is running but has no models; pull one with `ollama pull {self.config.model}`.")
        return Availability(True, f"{len(models)} model(s) pulled")

    def default_model(self) -> str | None:
        preferred = self.config.model
        if self._pulled is None:
            return preferred
        for name in self._pulled:
            if name == preferred or name.split(":")[0] == preferred:
                return name
        return self._pulled[0] if self._pulled else preferred

    async def list_models(self) -> list[ModelInfo]:
        try:
            models = await self.pulled_models()
        except ProviderError as exc:
            return [ModelInfo(ModelRef(self.name, self.config.model), False, exc.message, local=True)]
        infos = [ModelInfo(ModelRef(self.name, m), True, "pulled", local=True, size=_size(self._sizes.get(m))) for m in models]
        if not infos:
            infos.append(ModelInfo(ModelRef(self.name, self.config.model), False,
                                   f"not pulled: run `ollama pull {self.config.model}`", local=True))
        return infos

    async def supports_tools(self, model: str) -> bool:
        """From /api/show's capabilities (asked once per model); an Ollama too old to list them is given the tools,
        and its 400 "does not support tools" sends the request to the next model."""
        import asyncio

        if model not in self._tool_models:
            try:
                shown = await asyncio.wait_for(self._get_client().show(model), max(1.0, self.config.probe_timeout * 8))
            except Exception:  # not pulled, down, slow: the request itself will say what is wrong
                return True
            capabilities = getattr(shown, "capabilities", None)
            self._tool_models[model] = capabilities is None or "tools" in capabilities
        return self._tool_models[model]

    def _translate(self, exc: BaseException, model: str | None) -> ProviderError:
        import asyncio

        import httpx
        import ollama

        if isinstance(exc, ProviderError):
            return exc
        if isinstance(exc, ollama.ResponseError):
            text = one_line(str(exc.error or ""))
            if exc.status_code in (401, 403):
                # A proxy or a secured Ollama refusing us: the next candidate may still answer.
                return ProviderUnavailable(f"Ollama at {self.host} refused access (HTTP {exc.status_code}: "
                                           f"{text or 'unauthorised'}); check the proxy in front of it.", provider=self.name)
            if "does not support tools" in text.lower():
                if model:
                    self._tool_models[model] = False
                return ToolsUnsupported(f"The Ollama model '{model}' cannot call tools; name a model that can, or "
                                        "ask without tools (--no-tools).", provider=self.name)
            if exc.status_code == 404 or "not found" in text.lower():
                return ModelNotFound(
                    f"Ollama has no model '{model}'; pull it with `ollama pull {model}`.", provider=self.name
                )
            if exc.status_code == 429 or exc.status_code >= 500:
                # A busy queue (503), a crashed or out-of-memory runner (500): worth a retry, then another model.
                return Overloaded(f"Ollama could not answer: {text or exc.status_code}.", provider=self.name)
            return ProviderError(f"Ollama refused the request: {text or exc.status_code}.", provider=self.name)
        if isinstance(exc, (httpx.ConnectError, ConnectionError)):
            return self._down()
        if isinstance(exc, (httpx.TimeoutException, asyncio.TimeoutError)):
            return ProviderTimeout(f"Ollama at {self.host} did not answer in time.", provider=self.name)
        if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError)):
            return ConnectionLost("The connection to Ollama dropped mid-answer.", provider=self.name)
        if isinstance(exc, ValueError):
            return MalformedResponse("Ollama sent a response that could not be read.", provider=self.name)
        return ProviderError(f"Ollama failed: {exc.__class__.__name__}.", provider=self.name)

    async def stream(self, request: ProviderRequest) -> AsyncIterator[Chunk]:
        options: dict[str, Any] = {"num_predict": request.settings.max_tokens}
        if request.settings.temperature is not None:
            options["temperature"] = request.settings.temperature
        if request.settings.seed is not None:
            options["seed"] = request.settings.seed
        messages = [{"role": m.role, "content": m.content} for m in request.messages]
        messages += [m for exchange in request.exchanges for m in turn_messages(exchange)]
        model = request.model.model
        done = False
        calls = ToolStream(request.tools)
        tools = {"tools": tool_definitions(request.tools)} if request.tools else {}
        try:
            response = await self._get_client().chat(
                model=model, messages=messages, stream=True, options=options, keep_alive=self.config.keep_alive,
                **tools,
            )
            async for part in response:
                message = part.message
                text = message.content if message else None
                if text:
                    yield text
                if message is not None and message.tool_calls:
                    calls.feed({"message": {"tool_calls": [c.model_dump() for c in message.tool_calls]}})
                if part.done:
                    done = True
                    calls.feed({"done": True, "done_reason": part.done_reason})
                    if calls.wants_tools:
                        yield ToolCalls(calls.calls)
                    usage = Usage(part.prompt_eval_count or 0, part.eval_count or 0,
                                  estimated=part.prompt_eval_count is None or part.eval_count is None)
                    yield usage
        except Exception as exc:
            raise self._translate(exc, model) from exc
        if not done:
            raise ConnectionLost("Ollama's stream ended before the answer was finished.", provider=self.name)

    async def aclose(self) -> None:
        if self._client is not None:
            try:
                await self._client._client.aclose()
            except Exception:  # closing is best effort: the process is ending anyway
                pass


def tool_definitions(tools: Sequence[ToolSpec]) -> list[dict[str, Any]]:
    """Ollama takes OpenAI's function definitions."""
    out = []
    for spec in tools:
        function: dict[str, Any] = {"name": spec.wire_name or spec.name, "description": spec.description,
                                    "parameters": dict(spec.input_schema) or {"type": "object", "properties": {}}}
        out.append({"type": "function", "function": function})
    return out


def turn_messages(exchange: ToolExchange) -> list[dict[str, Any]]:
    """The assistant message with its calls (arguments as objects), then one `tool` message per call."""
    assistant = {"role": "assistant", "content": exchange.text,
                 "tool_calls": [{"function": {"name": c.wire_name, "arguments": dict(c.arguments)}}
                                for c in exchange.calls]}
    return [assistant] + [{"role": "tool", "content": r.text, "tool_name": c.wire_name} for c, r in paired(exchange)]


class ToolStream:
    """Feed every NDJSON line of /api/chat (or the one non-streamed answer); calls arrive whole, not in fragments."""

    def __init__(self, tools: Sequence[ToolSpec]) -> None:
        self._tools = tools
        self._raw: list[dict[str, Any]] = []
        self.done_reason = ""

    def feed(self, chunk: Mapping[str, Any]) -> None:
        for call in (chunk.get("message") or {}).get("tool_calls") or []:
            self._raw.append(dict(call))
        if chunk.get("done"):
            self.done_reason = chunk.get("done_reason") or "stop"

    @property
    def calls(self) -> tuple[ToolCall, ...]:
        out = []
        for n, call in enumerate(self._raw):
            function = call.get("function") or {}
            provider_id = str(call.get("id") or "")
            out.append(make_call(self._tools, provider_id or f"ollama_call_{n}", function.get("name") or "",
                                 function.get("arguments"), provider_id))
        return tuple(out)

    @property
    def wants_tools(self) -> bool:
        """Ollama ends a tool-calling turn with done_reason "stop"; only a cut-off turn ("length") is not run."""
        return bool(self._raw) and self.done_reason != "length"


SPEC = ProviderSpec(
    name="ollama", label="Ollama", local=True, section=OllamaSettings, model_example="llama3.2", default_tag="latest",
    capabilities=frozenset({TOOLS}),
)


def create(context: ProviderContext) -> OllamaProvider:
    return OllamaProvider(context)
