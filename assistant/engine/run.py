"""One attempt at one model: stream with retries, persist every chunk, report what happened."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import AsyncIterator, Callable

from assistant.engine.events import Event, Notice, Started, TextDelta
from assistant.engine.retry import RetryPolicy
from assistant.engine.types import ModelRef, ProviderRequest, Usage
from assistant.errors import AssistantError, ProviderError
from assistant.providers.base import Provider
from assistant.storage.history import History


@dataclass
class RunState:
    """What an attempt produced so far; the engine reads it after the stream ends or breaks."""

    ref: ModelRef
    started: float = field(default_factory=time.perf_counter)
    ttft_ms: float | None = None
    parts: list[str] = field(default_factory=list)
    usage: Usage | None = None
    message_id: int | None = None
    error: AssistantError | None = None
    retries: int = 0

    @property
    def text(self) -> str:
        return "".join(self.parts)

    @property
    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000


async def stream_attempt(
    provider: Provider,
    request: ProviderRequest,
    state: RunState,
    *,
    history: History,
    conversation_id: str,
    reason: str,
    retry: RetryPolicy,
    on_failure: Callable[[RunState, AssistantError], None],
) -> AsyncIterator[Event]:
    """Yield Started and TextDelta events; on a final error leave it in `state.error` and stop."""
    yield Started(conversation_id, state.ref, reason)
    while True:
        state.started = time.perf_counter()
        try:
            seq = 0
            async for chunk in provider.stream(request):
                if chunk.__class__ is str:
                    if state.message_id is None:
                        state.ttft_ms = (time.perf_counter() - state.started) * 1000
                        state.message_id = history.start_answer(conversation_id, state.ref.provider, state.ref.model)
                    history.append_chunk(state.message_id, seq, chunk)  # type: ignore[arg-type]
                    seq += 1
                    state.parts.append(chunk)  # type: ignore[arg-type]
                    yield TextDelta(chunk)  # type: ignore[arg-type]
                else:
                    state.usage = chunk  # type: ignore[assignment]
            return
        except ProviderError as exc:
            error: AssistantError = exc
        except AssistantError as exc:
            error = exc
        except Exception as exc:  # a provider bug must not leave the answer hanging as "streaming"
            error = ProviderError(
                f"The {state.ref.provider} provider failed unexpectedly ({type(exc).__name__}); please report this.",
                provider=state.ref.provider,
            )
        on_failure(state, error)
        if not retry.should_retry(error, state.retries, bool(state.parts)):
            state.error = error
            return
        wait = retry.delay(error, state.retries)
        state.retries += 1
        yield Notice(f"{state.ref}: {error.message} Retrying in {wait:.1f}s ({state.retries}/{retry.max_retries}).", "warning")
        await asyncio.sleep(wait)
