"""Local models served by Ollama, through the official ollama AsyncClient."""

from __future__ import annotations

import asyncio
from typing import Any, AsyncIterator
from urllib.parse import urlsplit

from assistant.engine.types import ModelInfo, ModelRef, ProviderRequest, Usage
from assistant.errors import (
    ConnectionLost, MalformedResponse, ModelNotFound, Overloaded, ProviderError, ProviderTimeout, ProviderUnavailable,
)
from assistant.providers.base import Availability, Chunk, Provider


def _host_port(host: str) -> tuple[str, int]:
    parts = urlsplit(host if "://" in host else f"http://{host}")
    port = parts.port or (443 if parts.scheme == "https" else 11434)
    return parts.hostname or "127.0.0.1", port


def _size(num: int | None) -> str:
    return f"{num / 1e9:.1f} GB" if num else ""


class OllamaProvider(Provider):
    name = "ollama"
    local = True

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self.host = self.settings.ollama.host
        self._client: Any = None
        self._pulled: list[str] | None = None

    def _get_client(self) -> Any:
        if self._client is None:
            import httpx
            import ollama

            timeout = httpx.Timeout(self.settings.network.read_timeout, connect=self.settings.ollama.probe_timeout * 4)
            self._client = ollama.AsyncClient(host=self.host, timeout=timeout)
        return self._client

    def _down(self) -> ProviderUnavailable:
        return ProviderUnavailable(
            f"Ollama is not running at {self.host}; start it with `ollama serve` (or set OLLAMA_HOST).", provider=self.name
        )

    async def reachable(self) -> bool:
        """A TCP connect, bounded by probe_timeout: a down Ollama costs at most a fraction of a second."""
        host, port = _host_port(self.host)
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), self.settings.ollama.probe_timeout)
        except (OSError, asyncio.TimeoutError):
            return False
        writer.close()
        return True

    async def pulled_models(self) -> list[str]:
        if not await self.reachable():
            raise self._down()
        try:
            response = await asyncio.wait_for(self._get_client().list(), max(1.0, self.settings.ollama.probe_timeout * 8))
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
            return Availability(False, f"Ollama is running but has no models; pull one with `ollama pull {self.settings.ollama.model}`.")
        return Availability(True, f"{len(models)} model(s) pulled")

    def default_model(self) -> str | None:
        preferred = self.settings.ollama.model
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
            return [ModelInfo(ModelRef(self.name, self.settings.ollama.model), False, exc.message, local=True)]
        infos = [ModelInfo(ModelRef(self.name, m), True, "pulled", local=True, size=_size(self._sizes.get(m))) for m in models]
        if not infos:
            infos.append(ModelInfo(ModelRef(self.name, self.settings.ollama.model), False,
                                   f"not pulled: run `ollama pull {self.settings.ollama.model}`", local=True))
        return infos

    def _translate(self, exc: BaseException, model: str | None) -> ProviderError:
        import httpx
        import ollama

        if isinstance(exc, ProviderError):
            return exc
        if isinstance(exc, ollama.ResponseError):
            text = str(exc.error or "")
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
        model = request.model.model
        done = False
        try:
            response = await self._get_client().chat(
                model=model, messages=messages, stream=True, options=options, keep_alive=self.settings.ollama.keep_alive
            )
            async for part in response:
                text = part.message.content if part.message else None
                if text:
                    yield text
                if part.done:
                    done = True
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
