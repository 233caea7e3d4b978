"""Events the engine yields for one request; the CLI and the TUI consume the same stream."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.core.errors import AssistantError
from assistant.core.types import Answer, ModelRef


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


Event = Started | TextDelta | Notice | Waiting | Finished | Failed
