"""Typed messages that carry worker results up to the app and its screens (the values they carry are imported
only for type checking: this module is part of the chat app's first frame). A message is an event, not a value:
no field-wise equality or repr is generated for it, which halves the cost of creating these classes at start-up."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from textual.widget import Widget
    from textual.worker import Worker

    from assistant.core import events
    from assistant.core.conversation import Conversation
    from assistant.core.events import ConsentReply
    from assistant.core.records import SearchHit, StoredMessage, StoredToolCall
    from assistant.core.reports import KeyStatus, LatencyRow, RequestPoint, SavingsReport
    from assistant.core.tools import ToolCall, ToolResult
    from assistant.core.types import Answer, Estimate, ModelInfo, RoutePreview
    from assistant.engine.engine import Engine


@dataclass(eq=False, repr=False)
class EngineReady(Message):
    """The engine is open; `notices` are start-up news such as a damaged database kept aside."""

    engine: Engine
    notices: list[str] = field(default_factory=list)
    # Fetched in the same worker; the sidebar repaints only if it differs from the first frame's list.
    conversations: list[Conversation] = field(default_factory=list)


@dataclass(eq=False, repr=False)
class EngineUnavailable(Message):
    """Opening the engine failed; the message says how to fix it."""

    text: str


@dataclass(eq=False, repr=False)
class Health(Message):
    """Provider health for the status bar; a newer report replaces an unprocessed older one."""

    local: dict[str, bool] | None = None  # providers on this machine: can each answer now? None: not probed
    providers: dict[str, bool] | None = None  # keyed providers: is there a key? None: the keys were not looked up

    def can_replace(self, message: Message) -> bool:
        return (isinstance(message, Health) and (message.providers is None) == (self.providers is None)
                and (message.local is None) == (self.local is None))


@dataclass(eq=False, repr=False)
class SendPrompt(Message):
    """The user pressed Enter in the prompt."""

    text: str


@dataclass(eq=False, repr=False)
class AnswerStarted(Message):
    conversation_id: str
    model: str
    local: bool
    cached: bool
    reason: str


@dataclass(eq=False, repr=False)
class AnswerText(Message):
    """A batch of streamed text (already made harmless for the terminal)."""

    text: str


@dataclass(eq=False, repr=False)
class AnswerWaiting(Message):
    """What the answer waits for now (loading the model, a retry back-off)."""

    what: str


@dataclass(eq=False, repr=False)
class AnswerNotice(Message):
    text: str
    level: str = "info"
    transient: bool = False  # over once the answer arrives (a retry): shown on the wait line, not as a line


@dataclass(eq=False, repr=False)
class SimilarFound(Message):
    """A similar question was answered before: the chat shows the dialog, and `found.decide` gets the choice."""

    found: events.SimilarFound


@dataclass(eq=False, repr=False)
class AnswerFinished(Message):
    answer: Answer


@dataclass(eq=False, repr=False)
class AnswerFailed(Message):
    text: str
    conversation_id: str | None = None


@dataclass(eq=False, repr=False)
class ToolConsentAsked(Message):
    """The model asked for a call nobody has allowed yet: the user answers through `reply`."""

    call: ToolCall
    reply: ConsentReply


@dataclass(eq=False, repr=False)
class ToolActivity(Message):
    """A call started (`result` None) or finished (refused and failed ones included)."""

    call: ToolCall
    result: ToolResult | None = None


@dataclass(eq=False, repr=False)
class AnswerStopped(Message):
    """The user pressed Escape; what arrived is kept (the engine marks it interrupted)."""


@dataclass(eq=False, repr=False)
class ConversationsLoaded(Message):
    conversations: list[Conversation]
    query: str = ""
    hits: list[SearchHit] = field(default_factory=list)


@dataclass(eq=False, repr=False)
class ConversationOpened(Message):
    conversation: Conversation
    messages: list[StoredMessage]
    answers: dict[int, Answer] = field(default_factory=dict)  # figures of each answer, by message id
    tool_calls: list[StoredToolCall] = field(default_factory=list)  # the answers' tool calls (message_id says whose)


@dataclass(eq=False, repr=False)
class BranchShown(Message):
    """The branch on screen changed (another alternative chosen), or its messages got their stored ids."""

    conversation_id: str
    messages: list[StoredMessage]
    answers: dict[int, Answer] = field(default_factory=dict)
    tool_calls: list[StoredToolCall] = field(default_factory=list)
    focus: int | None = None  # the message id to focus afterwards
    redraw: bool = True  # False: only give the widgets on screen their stored ids and alternatives


@dataclass(eq=False, repr=False)
class ConversationSelected(Message):
    """The sidebar asks the app to open a conversation (at a search hit's message, if given)."""

    conversation_id: str
    message_id: int | None = None


@dataclass(eq=False, repr=False)
class ItemAction(Message):
    """A focused message of the transcript asks for something: previous, next, older, newer, copy, select,
    prompt, edit or regenerate."""

    action: str
    item: Widget


@dataclass(eq=False, repr=False)
class RoutePreviewed(Message):
    """Which model would answer now, and why (the router's plan, nothing sent)."""

    preview: RoutePreview

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, RoutePreviewed)


@dataclass(eq=False, repr=False)
class Estimated(Message):
    """The estimate of the prompt being typed (None: the prompt is empty)."""

    estimate: Estimate | None
    text: str = ""  # the prompt it was made for

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, Estimated)


@dataclass(eq=False, repr=False)
class PromptsLoaded(Message):
    """Earlier questions, newest first, for Up/Down in an empty prompt."""

    prompts: list[str]


@dataclass(eq=False, repr=False)
class SearchRequested(Message):
    query: str


@dataclass(eq=False, repr=False)
class ModelsLoaded(Message):
    models: dict[str, list[ModelInfo]]


@dataclass(eq=False, repr=False)
class KeysLoaded(Message):
    statuses: list[KeyStatus]
    keyring_error: str = ""


@dataclass(eq=False, repr=False)
class SavingsLoaded(Message):
    """Figures for the savings panel; a newer load replaces an older unprocessed one."""

    periods: list[tuple[str, SavingsReport]]
    by_day: list[tuple[str, float]]
    baseline: str | None

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SavingsLoaded)


@dataclass(eq=False, repr=False)
class LatencyLoaded(Message):
    rows: list[LatencyRow]
    recent: list[RequestPoint]

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, LatencyLoaded)


@dataclass(eq=False, repr=False)
class Done(Message):
    """A background action finished; `text` is shown as a notification."""

    text: str
    refresh_history: bool = False


@dataclass(eq=False, repr=False)
class WorkerFailed(Message):
    """A screen's worker failed; the app's one handler shows it."""

    worker: Worker[object]
