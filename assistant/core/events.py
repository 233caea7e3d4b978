"""Events the engine yields for one request; the CLI and the TUI consume the same stream."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from assistant.core.errors import AssistantError
from assistant.core.tools import ToolCall, ToolResult
from assistant.core.types import Answer, ModelRef

Choice = Literal["once", "always", "refuse"]


@dataclass(frozen=True)
class Started:
    """The request is recorded; `ref` is the model about to answer and `reason` why it was chosen."""

    conversation_id: str
    ref: ModelRef
    reason: str
    cached: bool = False


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class Notice:
    """Something the user should know that is not an error: a fallback, a retry, a budget refusal."""

    text: str
    level: str = "info"  # info or warning
    # True for news that is over once the answer arrives (a retry): the chat shows it while waiting, not as a line.
    transient: bool = False


@dataclass(frozen=True)
class Waiting:
    """What the answer is waiting for now (loading a model, a retry back-off, the first token)."""

    what: str
    seconds: float | None = None  # how long the wait will last, when known


@dataclass(frozen=True)
class Finished:
    answer: Answer
    # True when the answer was stopped by the user; the partial text is kept and marked interrupted.
    interrupted: bool = False


@dataclass(frozen=True)
class Failed:
    error: AssistantError
    conversation_id: str | None = None
    partial_text: str = ""


@dataclass(frozen=True)
class SimilarFound:
    """A similar question was answered before (semantic = "suggest"): the consumer shows it and calls `decide`
    with True to use that answer (free) or False to ask a model; the request waits for the call."""

    conversation_id: str
    prompt: str  # the earlier question
    text: str  # its answer
    ref: ModelRef  # the model that answered it
    created_at: float  # when
    similarity: float
    saves_usd: float  # what using it saves, against the baseline
    decide: Callable[[bool], None]


class ConsentReply:
    """The answer to one ToolCallRequested: the engine waits for it; answering twice, or after the answer was
    stopped, does nothing. Safe to call from any thread."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._future: asyncio.Future[Choice] = self._loop.create_future()

    def answer(self, choice: Choice) -> None:
        def settle() -> None:
            if not self._future.done():
                self._future.set_result(choice)
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            settle()
        elif not self._loop.is_closed():
            self._loop.call_soon_threadsafe(settle)

    @property
    def answered(self) -> bool:
        return self._future.done()

    async def wait(self) -> Choice:
        return await self._future

    def cancel(self) -> None:
        self._future.cancel()


@dataclass(frozen=True)
class ToolCallRequested:
    """The model asked for a call that nobody has allowed yet: show it and `reply.answer("once" | "always" |
    "refuse")`. Only requests made with ToolUse(ask=True) yield this."""

    call: ToolCall
    reply: ConsentReply = field(compare=False)


@dataclass(frozen=True)
class ToolCallStarted:
    call: ToolCall


@dataclass(frozen=True)
class ToolCallFinished:
    """A call's result (refused and failed calls included); `result.text` is untrusted: sanitise before showing."""

    call: ToolCall
    result: ToolResult


Event = (Started | TextDelta | Notice | Waiting | SimilarFound | Finished | Failed | ToolCallRequested | ToolCallStarted
         | ToolCallFinished)
