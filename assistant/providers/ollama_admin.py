"""Managing Ollama's models (the MANAGE capability): pull, show, list, list loaded, unload and remove, through the
official client; every failure becomes one line that says what to do."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, cast

from assistant.core.errors import ConnectionLost, ModelNotFound, ProviderError
from assistant.core.textsafe import for_terminal, one_line
from assistant.core.tokens import ModelFacts

if TYPE_CHECKING:
    from datetime import datetime

    from assistant.core.local_models import InstalledModel, LoadedModel, ModelDetails, PullEvent
    from assistant.providers.ollama import OllamaProvider

# Verifying a 40 GB model's digest can take minutes with no progress line in between.
PULL_READ_TIMEOUT = 900.0
_DISK_WORDS = ("no space left", "disk full", "not enough space", "insufficient disk")
_UNKNOWN_WORDS = ("file does not exist", "manifest unknown", "not found", "invalid model name")


def _epoch(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def facts_from_show(show: Any) -> ModelFacts:
    """Context length from the model's metadata (`<architecture>.context_length`), images from its capabilities."""
    info = dict(show.modelinfo or {})
    arch = str(info.get("general.architecture") or "")
    context = info.get(f"{arch}.context_length") if arch else None
    capabilities = show.capabilities
    details = show.details
    return ModelFacts(
        context=int(context) if isinstance(context, int) else None,
        images=None if capabilities is None else "vision" in capabilities,
        family=str(getattr(details, "family", "") or ""),
        parameters=str(getattr(details, "parameter_size", "") or ""),
        quantization=str(getattr(details, "quantization_level", "") or ""),
    )


class OllamaAdmin:
    """One per provider: keeps what /api/show said of each model, since capabilities do not change."""

    def __init__(self, provider: OllamaProvider) -> None:
        self.provider = provider
        self._facts: dict[str, ModelFacts] = {}
        self._pull_client: Any = None

    @property
    def label(self) -> str:
        return self.provider.spec.label

    def _client(self) -> Any:
        return self.provider._get_client()

    def _puller(self) -> Any:
        if self._pull_client is None:
            import httpx
            import ollama

            timeout = httpx.Timeout(PULL_READ_TIMEOUT, connect=self.provider.config.probe_timeout * 4)
            self._pull_client = ollama.AsyncClient(host=self.provider.host, timeout=timeout)
        return self._pull_client

    async def _up(self) -> None:
        if not await self.provider.reachable():
            raise self.provider._down()

    def _error(self, exc: BaseException, model: str, doing: str) -> ProviderError:
        """Ollama's failures for model management, said in the words of what the user was doing."""
        import ollama

        name = for_terminal(model)
        if isinstance(exc, ollama.ResponseError):
            text = one_line(str(exc.error or ""))
            lowered = text.lower()
            if any(w in lowered for w in _DISK_WORDS):
                return ProviderError(f"Ollama ran out of disk space {doing} {name}; free some space, then try again "
                                     "(what was downloaded is kept).", provider=self.provider.name, title="Disk full")
            if exc.status_code == 404 or any(w in lowered for w in _UNKNOWN_WORDS):
                if doing == "pulling":
                    return ModelNotFound(f"The Ollama registry has no model '{name}'; check the name at "
                                         "https://ollama.com/library.", provider=self.provider.name)
                return ModelNotFound(f"Ollama has no model '{name}'; `assistant models` lists the pulled ones.",
                                     provider=self.provider.name)
            return ProviderError(f"Ollama failed {doing} {name}: {text or exc.status_code}.",
                                 provider=self.provider.name)
        error = self.provider._translate(exc, model)
        if doing == "pulling" and isinstance(error, ConnectionLost):
            return ConnectionLost(f"The pull of {name} was interrupted (the connection to Ollama dropped); run "
                                  f"`assistant models pull {name}` again to resume.", provider=self.provider.name)
        return error

    # pulling ---------------------------------------------------------------------------------------
    async def pull(self, model: str) -> AsyncIterator[PullEvent]:
        """Ollama's progress lines as they come; ends after "success" or raises. Closing the iterator closes the
        connection, and Ollama stops the download once no client is pulling that model."""
        from assistant.core.local_models import PullEvent  # model management only: not on a chat's path

        await self._up()
        finished = False
        try:
            stream = await self._puller().pull(model, stream=True)
            async for part in stream:
                event = PullEvent(str(part.status or ""), str(part.digest or ""), part.total, part.completed)
                finished = event.status == "success"
                yield event
        except ProviderError:
            raise
        except Exception as exc:
            raise self._error(exc, model, "pulling") from exc
        if not finished:
            raise ConnectionLost(f"The pull of {for_terminal(model)} ended before Ollama said it succeeded; run "
                                 f"`assistant models pull {for_terminal(model)}` again to resume.",
                                 provider=self.provider.name)
        self._facts.pop(model, None)
        self.provider._pulled = None  # the next listing asks Ollama again

    # reading -----------------------------------------------------------------------------------------
    async def installed(self) -> list[InstalledModel]:
        from assistant.core.local_models import InstalledModel  # model management only: not on a chat's path

        await self._up()
        try:
            response = await self._client().list()
        except Exception as exc:
            raise self._error(exc, "", "listing models") from exc
        return [InstalledModel(str(m.model), int(m.size or 0), _epoch(m.modified_at),
                               ModelFacts(family=str(getattr(m.details, "family", "") or ""),
                                          parameters=str(getattr(m.details, "parameter_size", "") or ""),
                                          quantization=str(getattr(m.details, "quantization_level", "") or "")))
                for m in response.models if m.model]

    async def show(self, model: str) -> ModelDetails:
        from assistant.core.local_models import ModelDetails  # model management only: not on a chat's path

        await self._up()
        try:
            show = await self._client().show(model)
        except Exception as exc:
            raise self._error(exc, model, "showing") from exc
        facts = facts_from_show(show)
        self._facts[model] = facts
        return ModelDetails(model, facts, str(show.license or ""), str(show.template or ""),
                            str(show.parameters or ""), tuple(show.capabilities or ()), _epoch(show.modified_at))

    async def facts(self, model: str) -> ModelFacts:
        """What /api/show says, asked once per model; nothing known when Ollama is down or the model is missing."""
        found = self._facts.get(model)
        if found is None:
            try:
                found = (await self.show(model)).facts
            except ProviderError:
                return ModelFacts()
        return found

    def known_context(self, model: str) -> int | None:
        found = self._facts.get(model)
        return found.context if found is not None else None

    async def loaded(self) -> list[LoadedModel]:
        from assistant.core.local_models import LoadedModel  # model management only: not on a chat's path

        await self._up()
        try:
            response = await self._client().ps()
        except Exception as exc:
            raise self._error(exc, "", "listing loaded models") from exc
        return [LoadedModel(str(m.model or m.name), int(m.size or 0), int(m.size_vram or 0), _epoch(m.expires_at),
                            m.context_length) for m in response.models]

    # changing -----------------------------------------------------------------------------------------
    async def unload(self, model: str) -> None:
        """keep_alive 0 with no prompt: Ollama's documented way to free a model's memory now."""
        await self._up()
        try:
            await self._client().generate(model=model, keep_alive=0)
        except Exception as exc:
            raise self._error(exc, model, "unloading") from exc

    async def remove(self, model: str) -> None:
        await self._up()
        try:
            await self._client().delete(model)
        except Exception as exc:
            raise self._error(exc, model, "removing") from exc
        self._facts.pop(model, None)
        self.provider._pulled = None

    async def aclose(self) -> None:
        if self._pull_client is not None:
            try:
                await self._pull_client._client.aclose()
            except Exception:  # closing is best effort: the process is ending anyway
                pass


class Managed:
    """Mixed into the Ollama provider: its models can be managed (MANAGE), and /api/show tells about each."""

    _admin: OllamaAdmin | None

    def manager(self) -> OllamaAdmin:
        """Pull, show, list loaded, unload and remove models on the first host."""
        if self._admin is None:
            self._admin = OllamaAdmin(cast("OllamaProvider", self))
        return self._admin

    async def model_facts(self, model: str) -> ModelFacts:
        return await self.manager().facts(model)

    def context_window(self, model: str) -> int | None:
        """Known once /api/show was asked about the model (model_facts asks); None before."""
        return self._admin.known_context(model) if self._admin is not None else None
