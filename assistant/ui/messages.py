"""Typed messages that carry worker results up to the app and its screens."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from textual.message import Message


@dataclass
class EngineReady(Message):
    """The engine is open; `notices` are start-up news such as a damaged database kept aside."""

    engine: Any
    notices: list[str] = field(default_factory=list)
    # Fetched in the same worker; the sidebar repaints only if it differs from the first frame's list.
    conversations: list[Any] = field(default_factory=list)


@dataclass
class EngineUnavailable(Message):
    """Opening the engine failed; the message says how to fix it."""

    text: str


@dataclass
class Health(Message):
    """Provider health for the status bar; a newer report replaces an unprocessed older one."""

    ollama: str
    providers: dict[str, bool] | None = None  # None: the keys were not looked up this time

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, Health) and (message.providers is None) == (self.providers is None)


@dataclass
class SendPrompt(Message):
    """The user pressed Enter in the prompt."""

    text: str


@dataclass
class AnswerStarted(Message):
    conversation_id: str
    model: str
    local: bool
    cached: bool
    reason: str


@dataclass
class AnswerText(Message):
    """A batch of streamed text (already made harmless for the terminal)."""

    text: str


@dataclass
class AnswerNotice(Message):
    text: str
    level: str = "info"


@dataclass
class AnswerFinished(Message):
    answer: Any


@dataclass
class AnswerFailed(Message):
    text: str
    conversation_id: str | None = None


@dataclass
class AnswerStopped(Message):
    """The user pressed Escape; what arrived is kept (the engine marks it interrupted)."""


@dataclass
class ConversationsLoaded(Message):
    conversations: list[Any]
    query: str = ""
    hits: list[Any] = field(default_factory=list)


@dataclass
class ConversationOpened(Message):
    conversation: Any
    messages: list[Any]


@dataclass
class ConversationSelected(Message):
    """The sidebar asks the app to open a conversation."""

    conversation_id: str


@dataclass
class SearchRequested(Message):
    query: str


@dataclass
class ModelsLoaded(Message):
    models: dict[str, list[Any]]


@dataclass
class KeysLoaded(Message):
    statuses: list[Any]
    keyring_error: str = ""


@dataclass
class StatsLoaded(Message):
    """Figures for the savings or latency panel; a newer load replaces an older unprocessed one."""

    panel: str
    data: Any

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, StatsLoaded) and message.panel == self.panel


@dataclass
class Done(Message):
    """A background action finished; `text` is shown as a notification."""

    text: str
    refresh_history: bool = False
