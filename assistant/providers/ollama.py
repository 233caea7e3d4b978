"""Local models served by Ollama (one host or several, see ollama_hosts.py), through the official ollama AsyncClient;
tools for the models whose /api/show capabilities include "tools", calls arriving whole in `message.tool_calls`,
results as `tool` messages."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from assistant.core.config import setting
from assistant.core.errors import (
    ConnectionLost,
    MalformedResponse,
    ModelNotFound,
    Overloaded,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    ToolsUnsupported,
)
from assistant.core.spec import EMBED, IMAGES, MANAGE, TOOLS, ProviderSpec
from assistant.core.textsafe import first_clause, one_line
from assistant.core.tools import ToolCalls
from assistant.core.types import ChatMessage, ModelInfo, ModelRef, ProviderRequest, Usage
from assistant.providers.base import Availability, Chunk, Provider, ProviderContext
from assistant.providers.ollama_admin import Managed, OllamaAdmin
from assistant.providers.ollama_embed import embed, is_embedding_model, pick
from assistant.providers.ollama_hosts import Host, HostPool, Listing, base_url, host_port, listing, tcp_reachable
from assistant.providers.ollama_tools import ToolStream, tool_definitions, turn_messages


@dataclass(frozen=True)
class OllamaSettings:
    host: str = setting("http://127.0.0.1:11434", "Where Ollama listens.", "OLLAMA_HOST")
    hosts: tuple[str, ...] = setting((), "Several Ollama servers (e.g. [\"http://gpu-box:11434\", \"127.0.0.1:11434\"]); "
                                         "each request goes to a healthy one that has the model (loaded first, then the "
                                         "fastest), and to the next one if it fails. Empty: host alone.")
    model: str = setting("llama3.2", "Ollama model preferred when several are pulled.")
    probe_timeout: float = setting(0.25, "Seconds to wait when checking whether Ollama is up.", lo=0.01, hi=30)
    keep_alive: str = setting("5m", "How long Ollama keeps the model loaded after a request.")


def _size(num: int | None) -> str:
    return f"{num / 1e9:.1f} GB" if num else ""


def _message(m: ChatMessage) -> dict[str, Any]:
    """Ollama's chat message: images as a list beside the text (the client base64-encodes the bytes)."""
    out: dict[str, Any] = {"role": m.role, "content": m.text}
    if m.images:
        out["images"] = [a.data for a in m.images]
    return out


class OllamaProvider(Managed, Provider):
    """One provider over one or more Ollama hosts (ollama_hosts.py says which host a request goes to)."""

    # Llama 3's chat template: header tokens around each message, and the assistant header that starts the reply.
    TOKENS_PER_MESSAGE = 5
    TOKENS_PER_REQUEST = 5

    def __init__(self, context: ProviderContext) -> None:
        super().__init__(context)
        self.config: OllamaSettings = context.section
        urls = [base_url(h) for h in (self.config.hosts or (self.config.host,))]
        for url in urls:
            host_port(url)  # a malformed address fails here with a line that says what to fix
        self.pool = HostPool(urls)
        self.host = self.pool.first.url  # model management (and single-host messages) use the first host
        self._tool_models: dict[str, bool] = {}  # model -> /api/show lists "tools" among its capabilities
        self._admin: OllamaAdmin | None = None

    def _client_for(self, host: Host) -> Any:
        if host.client is None:
            import httpx
            import ollama

            timeout = httpx.Timeout(self.context.network.read_timeout, connect=self.config.probe_timeout * 4)
            host.client = ollama.AsyncClient(host=host.url, timeout=timeout)
        return host.client

    def _get_client(self) -> Any:
        return self._client_for(self.pool.first)

    @property
    def _pulled(self) -> list[str] | None:
        """Models pulled on the hosts that are up (None before the first probe)."""
        return self.pool.models() if any(h.models is not None for h in self.pool.hosts) else None

    @_pulled.setter
    def _pulled(self, value: list[str] | None) -> None:
        if value is None:  # forget the listings: the next probe asks again
            for host in self.pool.hosts:
                host.models = None

    def _down(self, host: Host | None = None) -> ProviderUnavailable:
        url = (host or self.pool.first).url
        return ProviderUnavailable(
            f"Ollama is not running at {url}; start it with `ollama serve` (or set OLLAMA_HOST).", provider=self.name
        )

    async def _reachable(self, host: Host) -> bool:
        return await tcp_reachable(host.url, self.config.probe_timeout)

    async def reachable(self) -> bool:
        return await self._reachable(self.pool.first)

    async def _probe(self, host: Host) -> Listing:
        """What the host has pulled and (if it says) has loaded."""
        try:
            return await listing(self._client_for(host), max(1.0, self.config.probe_timeout * 8))
        except Exception as exc:
            raise self._translate(exc, None, host) from exc

    async def pulled_models(self) -> list[str]:
        await self.pool.refresh(self._probe, self._reachable)
        if not self.pool.up():
            raise self._unavailable()
        return self.pool.models()

    def _unavailable(self) -> ProviderUnavailable:
        if len(self.pool.hosts) == 1:
            host = self.pool.first
            return self._down() if host.detail == "not running" else ProviderUnavailable(host.detail, provider=self.name)
        why = "; ".join(f"{h.label}: {first_clause(h.detail or 'down')}" for h in self.pool.hosts)
        return ProviderUnavailable(f"No Ollama host is answering ({why}); start `ollama serve` on one of them.",
                                   provider=self.name)

    async def availability(self) -> Availability:
        try:
            models = await self.pulled_models()
        except ProviderError as exc:
            return Availability(False, exc.message)
        if not models:
            return Availability(False, f"Ollama is running but has no models; pull one with `assistant models pull {self.config.model}`.")
        hosts = len(self.pool.hosts)
        where = f" on {len(self.pool.up())} of {hosts} hosts" if hosts > 1 else ""
        return Availability(True, f"{len(models)} model(s) pulled{where}")

    def default_model(self) -> str | None:
        preferred = self.config.model
        pulled = self._pulled
        if pulled is None:
            return preferred
        for name in pulled:
            if name == preferred or name.split(":")[0] == preferred:
                return name
        chat = [m for m in pulled if not is_embedding_model(m)] or pulled  # an embedding model cannot chat
        return chat[0] if chat else preferred

    async def list_models(self) -> list[ModelInfo]:
        """Each host's models, with the host (and its state and latency) as `where`."""
        await self.pool.refresh(self._probe, self._reachable)
        infos: list[ModelInfo] = []
        for host in self.pool.hosts:
            where = host.summary()
            if not host.up:
                why = self._down(host).message if host.detail == "not running" else host.detail
                infos.append(ModelInfo(ModelRef(self.name, self.config.model), False, why, local=True, where=where))
                continue
            for m in host.models or ():
                detail = "pulled, loaded" if host.is_loaded(m) else "pulled"
                infos.append(ModelInfo(ModelRef(self.name, m), True, detail, local=True,
                                       size=_size(host.sizes.get(m)), where=where))
            if not host.models:
                infos.append(ModelInfo(ModelRef(self.name, self.config.model), False,
                                       f"not pulled: run `assistant models pull {self.config.model}`", local=True, where=where))
        return infos

    async def supports_tools(self, model: str) -> bool:
        """From /api/show's capabilities (asked once per model); an Ollama too old to list them is given the tools,
        and its 400 "does not support tools" sends the request to the next model."""
        import asyncio

        if model not in self._tool_models:
            try:
                host = next(iter(self.pool.order(model)), self.pool.first)  # the host the request would go to
                shown = await asyncio.wait_for(self._client_for(host).show(model),
                                               max(1.0, self.config.probe_timeout * 8))
            except Exception:  # not pulled, down, slow: the request itself will say what is wrong
                return True
            capabilities = getattr(shown, "capabilities", None)
            self._tool_models[model] = capabilities is None or "tools" in capabilities
        return self._tool_models[model]

    async def embedding_model(self, preferred: str = "") -> str | None:
        try:
            pulled = await self.pulled_models()
        except ProviderError:
            return None
        return pick(pulled, preferred, SPEC.canonical_model(preferred) if preferred else "")

    async def embed(self, model: str, texts: Sequence[str]) -> list[list[float]]:
        host = next(iter(self.pool.order(model)), self.pool.first)
        try:
            return await embed(self._client_for(host), model, texts, self.config.keep_alive)
        except ValueError as exc:
            raise MalformedResponse(f"Ollama returned {exc}.", provider=self.name) from exc
        except Exception as exc:
            raise self._translate(exc, model, host) from exc

    def _translate(self, exc: BaseException, model: str | None, host: Host | None = None) -> ProviderError:
        import asyncio

        import httpx
        import ollama

        url = (host or self.pool.first).url
        if isinstance(exc, ProviderError):
            return exc
        if isinstance(exc, ollama.ResponseError):
            text = one_line(str(exc.error or ""))
            if exc.status_code in (401, 403):
                # A proxy or a secured Ollama refusing us: the next candidate may still answer.
                return ProviderUnavailable(f"Ollama at {url} refused access (HTTP {exc.status_code}: "
                                           f"{text or 'unauthorised'}); check the proxy in front of it.", provider=self.name)
            if "does not support tools" in text.lower():
                if model:
                    self._tool_models[model] = False
                return ToolsUnsupported(f"The Ollama model '{model}' cannot call tools; name a model that can, or "
                                        "ask without tools (--no-tools).", provider=self.name)
            if exc.status_code == 404 or "not found" in text.lower():
                return ModelNotFound(
                    f"Ollama has no model '{model}'; pull it with `assistant models pull {model}`.", provider=self.name
                )
            if exc.status_code == 429 or exc.status_code >= 500:
                # A busy queue (503), a crashed or out-of-memory runner (500): worth a retry, then another model.
                return Overloaded(f"Ollama could not answer: {text or exc.status_code}.", provider=self.name)
            return ProviderError(f"Ollama refused the request: {text or exc.status_code}.", provider=self.name)
        if isinstance(exc, (httpx.ConnectError, ConnectionError)):
            return self._down(host)
        if isinstance(exc, (httpx.TimeoutException, asyncio.TimeoutError)):
            return ProviderTimeout(f"Ollama at {url} did not answer in time.", provider=self.name)
        if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError)):
            return ConnectionLost("The connection to Ollama dropped mid-answer.", provider=self.name)
        if isinstance(exc, ValueError):
            return MalformedResponse("Ollama sent a response that could not be read.", provider=self.name)
        return ProviderError(f"Ollama failed: {exc.__class__.__name__}.", provider=self.name)

    async def stream(self, request: ProviderRequest) -> AsyncIterator[Chunk]:
        """On the best host for the model; a host that fails before any text hands over to the next one."""
        model = request.model.model
        hosts = self.pool.order(model)
        if not hosts:
            where = ", ".join(h.label for h in self.pool.hosts)
            raise ModelNotFound(f"No Ollama host has model '{model}' ({where}); pull it with `ollama pull {model}` "
                                "on one of them.", provider=self.name)
        errors: list[tuple[Host, ProviderError]] = []
        for host in hosts:
            started, sent = time.perf_counter(), False
            try:
                async for chunk in self._stream_on(host, request):
                    if not sent and not isinstance(chunk, Usage):  # text or tool calls: past the point of return
                        sent = True
                        self.pool.answered(host, (time.perf_counter() - started) * 1000)
                    yield chunk
                return
            except ProviderError as exc:
                if sent or not (exc.falls_back or isinstance(exc, ModelNotFound)):
                    raise
                missing = model if isinstance(exc, ModelNotFound) else None
                self.pool.failed(host, first_clause(exc.message), missing_model=missing)
                errors.append((host, exc))
        raise self._all_failed(model, errors)

    def _all_failed(self, model: str, errors: list[tuple[Host, ProviderError]]) -> ProviderError:
        last = errors[-1][1]
        if len(errors) == 1:
            return last
        why = "; ".join(f"{h.label}: {first_clause(e.message)}" for h, e in errors)
        if all(isinstance(e, ModelNotFound) for _, e in errors):
            return ModelNotFound(f"No Ollama host has model '{model}' ({why}); pull it with `ollama pull {model}`.",
                                 provider=self.name)
        return ProviderUnavailable(f"Every Ollama host failed ({why}).", provider=self.name)

    async def _stream_on(self, host: Host, request: ProviderRequest) -> AsyncIterator[Chunk]:
        options: dict[str, Any] = {"num_predict": request.settings.max_tokens}
        if request.settings.temperature is not None:
            options["temperature"] = request.settings.temperature
        if request.settings.seed is not None:
            options["seed"] = request.settings.seed
        messages = [_message(m) for m in request.messages]
        messages += [m for exchange in request.exchanges for m in turn_messages(exchange)]
        model = request.model.model
        done = False
        calls = ToolStream(request.tools)
        tools = {"tools": tool_definitions(request.tools)} if request.tools else {}
        try:
            response = await self._client_for(host).chat(
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
            raise self._translate(exc, model, host) from exc
        if not done:
            raise ConnectionLost("Ollama's stream ended before the answer was finished.", provider=self.name)

    async def aclose(self) -> None:
        if self._admin is not None:
            await self._admin.aclose()
        for host in self.pool.hosts:
            if host.client is not None:
                try:
                    await host.client._client.aclose()
                except Exception:  # closing is best effort: the process is ending anyway
                    pass


SPEC = ProviderSpec(
    name="ollama", label="Ollama", local=True, section=OllamaSettings, model_example="llama3.2", default_tag="latest",
    capabilities=frozenset({TOOLS, EMBED, MANAGE, IMAGES}),
)


def create(context: ProviderContext) -> OllamaProvider:
    return OllamaProvider(context)
