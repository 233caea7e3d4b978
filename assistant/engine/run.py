"""One attempt at one model: stream with retries inside a first-token deadline, handing text to the recorder."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass, field

from assistant.core.errors import AssistantError, ProviderError, ProviderTimeout
from assistant.core.events import Event, Notice, Started, TextDelta, Waiting
from assistant.core.tools import ToolCall, ToolCalls, ToolResult, ToolSpec
from assistant.core.types import ModelRef, ProviderRequest, Usage
from assistant.engine.recorder import TurnRecorder
from assistant.engine.retry import RetryPolicy
from assistant.providers.base import Chunk, Provider


@dataclass
class RunState:
    """What an attempt produced so far; the engine reads it after the stream ends or breaks."""

    ref: ModelRef
    local: bool = False
    started: float = field(default_factory=time.perf_counter)
    ttft_ms: float | None = None
    parts: list[str] = field(default_factory=list)
    usage: Usage | None = None
    error: AssistantError | None = None
    retries: int = 0
    waited_ms: float = 0.0  # retry back-offs inside this attempt, part of its first-token time
    offered: tuple[ToolSpec, ...] = ()  # the tools this attempt offers the model
    calls: tuple[ToolCall, ...] = ()  # what the model's last turn asked for, not yet run
    tool_results: list[ToolResult] = field(default_factory=list)  # every call of the answer so far, in order
    tools_ms: float = 0.0

    @property
    def text(self) -> str:
        return "".join(self.parts)

    @property
    def underway(self) -> bool:
        """Text was shown or tools were asked for: from here the answer is never retried or moved to another model
        (a tool may have had side effects, and the user has seen or approved what happened)."""
        return bool(self.parts) or bool(self.tool_results) or bool(self.calls)

    @property
    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000


def _hung(state: RunState, seconds: float) -> ProviderTimeout:
    error = ProviderTimeout(f"{state.ref} sent nothing for {seconds:.0f} s (network.first_token_timeout); it may be "
                            "overloaded, or its base URL may point at a server that does not answer.",
                            provider=state.ref.provider)
    error.kind = "hang"  # counted by the breaker at once, so the next request skips it
    return error


def _as_provider_error(state: RunState, exc: Exception) -> AssistantError:
    if isinstance(exc, AssistantError):
        return exc
    # A provider bug must not leave the answer hanging as "streaming": it becomes one line, and the log has the rest.
    return ProviderError(f"The {state.ref.provider} provider failed unexpectedly ({type(exc).__name__}); "
                         "please report this.", provider=state.ref.provider)


async def _first(stream: AsyncIterator[Chunk], budget: float | None) -> Chunk:
    if budget is None:
        return await anext(stream)
    return await asyncio.wait_for(anext(stream), max(0.001, budget))


async def stream_attempt(
    provider: Provider,
    request: ProviderRequest,
    state: RunState,
    *,
    recorder: TurnRecorder,
    reason: str,
    retry: RetryPolicy,
    deadline: float | None,
    on_failure: Callable[[RunState, AssistantError], None],
    prompt_tokens: int = 0,
    continuing: bool = False,
) -> AsyncGenerator[Event, None]:
    """Yield Started, Waiting and TextDelta events; on a final error leave it in `state.error` and stop.

    `deadline` (a perf_counter time, or None) bounds the wait for the first token, retries included. `continuing`:
    a later model turn of the same answer (after tool calls), which adds to the answer and its row.
    """
    if not continuing:
        yield Started(recorder.conversation_id, state.ref, reason)
        state.started = time.perf_counter()
    if not provider.ready:
        yield Waiting(f"loading {state.ref}")
    while True:
        attempt_start = time.perf_counter()
        if not continuing:
            recorder.attempt_started(state.ref, reason, prompt_tokens)  # each try gets its own row, pending until it ends
        stream = provider.stream(request).__aiter__()
        error: AssistantError | None = None
        chunk: Chunk | None = None
        # Only the provider's own steps sit inside these try blocks: a failure of our database while recording
        # propagates as the StorageError it is, never blamed on (or retried against) the provider.
        try:
            try:
                chunk = await _first(stream, None if deadline is None else deadline - time.perf_counter())
            except TimeoutError:
                error = _hung(state, time.perf_counter() - state.started)
            except StopAsyncIteration:
                chunk = None
            except Exception as exc:
                error = _as_provider_error(state, exc)
            while chunk is not None:
                if chunk.__class__ is str:
                    text: str = chunk  # narrowed by the class check (faster than isinstance on the hot path)
                    if state.ttft_ms is None:
                        state.ttft_ms = (time.perf_counter() - state.started) * 1000
                        await recorder.first_text(state.ref, text)
                    else:
                        recorder.chunk(text)
                    state.parts.append(text)
                    yield TextDelta(text)
                elif chunk.__class__ is ToolCalls:
                    assert isinstance(chunk, ToolCalls)  # once per stream, before the bill
                    state.calls = chunk.calls
                    if state.ttft_ms is None:  # the model's first output, though not text
                        state.ttft_ms = (time.perf_counter() - state.started) * 1000
                else:
                    assert isinstance(chunk, Usage)  # once per stream: the bill
                    state.usage = chunk
                try:
                    chunk = await anext(stream)
                except StopAsyncIteration:
                    chunk = None
                except Exception as exc:
                    error = _as_provider_error(state, exc)
                    chunk = None
        finally:
            await _close(stream)
        if error is None:
            return
        on_failure(state, error)
        if not retry.should_retry(error, state.retries, state.underway):
            state.error = error
            return
        wait = retry.delay(error, state.retries)
        if deadline is not None and time.perf_counter() + wait >= deadline:
            state.error = error  # no time left for another try: the next candidate gets what remains
            return
        state.retries += 1
        yield Notice(f"{state.ref}: {error.message} Retrying in {wait:.1f}s ({state.retries}/{retry.max_retries}).",
                     "warning", transient=True)
        yield Waiting(f"retrying {state.ref} in {wait:.1f} s", wait)
        await asyncio.sleep(wait)
        state.waited_ms += (time.perf_counter() - attempt_start) * 1000


async def _close(stream: AsyncIterator[Chunk]) -> None:
    closer = getattr(stream, "aclose", None)
    if closer is not None:
        try:
            await closer()
        except Exception:  # the attempt's own error is what matters; a failing close adds nothing
            pass
