"""Turns a ChatRequest into the provider message list, using and updating the stored conversation."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from assistant.core.cache_key import content_digest
from assistant.core.config import Settings
from assistant.core.errors import UsageError
from assistant.core.records import StoredMessage
from assistant.core.tools import ToolSpec
from assistant.core.types import (
    Attachment,
    ChatMessage,
    ChatRequest,
    GenerationSettings,
    ModelRef,
    ProviderRequest,
    ToolUse,
)
from assistant.storage.history import History
from assistant.storage.tree import LEAF

MAX_PROMPT_CHARS = 4_000_000


@dataclass(frozen=True)
class Turn:
    """The conversation this request belongs to and everything sent before the new prompt."""

    conversation_id: str
    prompt: str
    prior: tuple[ChatMessage, ...]
    system: str | None
    user_message_id: int  # the question being answered: the parent of the answer (0 for a preview)
    prompt_digest: bytes | None = None  # blake3 of the prompt when it is the stored question as is
    private: bool = False  # the request or its conversation is kept out of the team cache
    attachments: tuple[Attachment, ...] = ()  # files and images sent with the question

    @property
    def messages(self) -> tuple[ChatMessage, ...]:
        """What every model is sent: system prompt, earlier turns (with their stored digests), the question."""
        system = (ChatMessage("system", self.system),) if self.system else ()
        return system + self.prior + (ChatMessage("user", self.prompt, self.prompt_digest, self.attachments),)

    def provider_request(self, ref: ModelRef, settings: GenerationSettings,
                         tools: tuple[ToolSpec, ...] = ()) -> ProviderRequest:
        return ProviderRequest(ref, self.messages, settings, tools)

    @property
    def images(self) -> int:
        """Images the model would read: earlier turns' and this question's."""
        return sum(a.is_image for m in self.prior for a in m.attachments) + sum(a.is_image for a in self.attachments)

    @property
    def has_images(self) -> bool:
        return self.images > 0

    @property
    def chars(self) -> int:
        """Characters of text the model reads, text files included (images are counted apart)."""
        files = sum(a.size for m in (*self.prior, *self.messages[-1:]) for a in m.attachments if not a.is_image)
        return sum(len(m.content) for m in self.prior) + len(self.prompt) + len(self.system or "") + files


def _visible(text: str) -> bool:
    """True when the text has something besides spaces and invisible format characters (zero-width spaces)."""
    return any(not c.isspace() and unicodedata.category(c) not in ("Cf", "Cc") for c in text)


def build_request(settings: Settings, prompt: str, *, model: ModelRef | None = None, system: str | None = None,
                  temperature: float | None = None, max_tokens: int | None = None,
                  conversation_id: str | None = None, use_cache: bool = True, local_only: bool = False,
                  regenerate: bool = False, private: bool = False, tools: ToolUse | None = None,
                  attachments: tuple[Attachment, ...] = ()) -> ChatRequest:
    """A request with the configured defaults applied once, the same way for the CLI and the TUI."""
    gen = settings.generation
    if temperature is None and gen.temperature >= 0:
        temperature = gen.temperature
    if temperature is not None and not 0 <= temperature <= 2:
        raise UsageError(f"The temperature must be a number from 0 to 2, not {temperature!r}.")
    if max_tokens is not None and max_tokens <= 0:
        raise UsageError("The most tokens of an answer must be a positive number.")
    generation = GenerationSettings(temperature=temperature, max_tokens=max_tokens or gen.max_tokens)
    return ChatRequest(prompt, model, system, generation, conversation_id, use_cache, local_only, regenerate,
                       private=private, tools=tools or ToolUse(), attachments=tuple(attachments))


def validate_prompt(prompt: str, attachments: tuple[Attachment, ...] = ()) -> str:
    """A question with something in it (files alone are one), within the size limit."""
    if (not prompt or not _visible(prompt)) and not attachments:
        raise UsageError("The prompt is empty; type a question, e.g. assistant ask \"What is the capital of France?\"")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise UsageError(f"The prompt is {len(prompt):,} characters; the limit is {MAX_PROMPT_CHARS:,}. Shorten it or split it.")
    return prompt


def context_of(stored: list[StoredMessage]) -> list[ChatMessage]:
    """Earlier turns as the model should see them."""
    prior: list[ChatMessage] = []
    for m in stored:
        # Failed answers are left out; an interrupted one is kept so the model sees what it said.
        if m.role in ("user", "assistant") and m.status != "failed" and (m.content or m.role == "user"):
            if prior and prior[-1].role == m.role == "user":
                # A question whose answer failed: merged with the next, as APIs refuse two user turns in a row.
                prior[-1] = _merged(prior[-1], m.content, m.attachments)
            else:
                prior.append(ChatMessage(m.role, m.content, m.digest, m.attachments))
    return prior


def _merged(first: ChatMessage, content: str, attachments: tuple[Attachment, ...]) -> ChatMessage:
    """A question that got no answer and the one after it, as one turn with the files of both."""
    text = "\n\n".join(t for t in (first.content, content) if t)
    return ChatMessage("user", text, attachments=first.attachments + attachments)


def _regenerated(stored: list[StoredMessage]) -> tuple[list[StoredMessage], StoredMessage]:
    """For regenerate: what came before the last question, and that question (its answers stay as alternatives)."""
    while stored and stored[-1].role == "assistant":
        stored = stored[:-1]
    if not stored or stored[-1].role != "user":
        raise UsageError("There is no question to regenerate an answer for in this conversation.")
    return stored[:-1], stored[-1]


@dataclass(frozen=True)
class _Shape:
    """Where a request's question sits in its conversation."""

    before: list[StoredMessage]  # the branch before the question
    prompt: str
    question_id: int | None = None  # regenerate: the question answered again
    parent_id: int | None = LEAF  # a new question: the message it follows
    attachments: tuple[Attachment, ...] = ()  # the question's files


def _shape(history: History, cid: str, request: ChatRequest) -> _Shape:
    if request.regenerate:
        before, question = _regenerated(history.messages(cid))
        return _Shape(before, question.content, question.id, attachments=question.attachments)
    if request.edit_of is not None:
        target = history.message(cid, request.edit_of)
        if target.role != "user":
            raise UsageError("Only a question you asked can be edited; regenerate an answer instead.")
        return _Shape(history.ancestors(cid, target.parent_id), request.prompt, parent_id=target.parent_id,
                      attachments=request.attachments)
    return _Shape(history.messages(cid), request.prompt, attachments=request.attachments)


def _turn(cid: str, shape: _Shape, system: str | None, question_id: int, private: bool = False) -> Turn:
    prior = context_of(shape.before)
    asked = ChatMessage("user", shape.prompt, attachments=shape.attachments)
    if prior and prior[-1].role == "user":  # the question before got no answer: both are asked together
        asked = _merged(prior.pop(), shape.prompt, shape.attachments)
    return Turn(cid, asked.content, tuple(prior), system, question_id, private=private, attachments=asked.attachments)


def preview_turn(history: History, request: ChatRequest) -> Turn:
    """The turn `request` would make, written nowhere: for estimates before anything is sent."""
    if request.conversation_id is None:
        return Turn("", request.prompt, (), request.system, 0, attachments=request.attachments)
    conv = history.get_conversation(request.conversation_id)
    system = request.system if request.system is not None else conv.system
    return _turn(conv.id, _shape(history, conv.id, request), system, 0)


def begin_turn(history: History, request: ChatRequest) -> Turn:
    """Record the user's message before anything else, so it is never lost: one transaction (a conversation is
    never left without its question, and one commit is a third of the time of the several a turn writes)."""
    return history.atomically(lambda: _begin_turn(history, request))


def _begin_turn(history: History, request: ChatRequest) -> Turn:
    files = request.attachments
    if not request.regenerate:
        validate_prompt(request.prompt, files)
    model = str(request.model) if request.model else None
    digest = content_digest(request.prompt, files)
    if request.conversation_id is None:
        retried = None if request.prior or files else history.failed_start(request.prompt, request.system,
                                                                             request.private)
        if retried is not None:  # the same question again after it failed: one conversation, not two
            cid, mid = retried
            history.touch(cid)
            return Turn(cid, request.prompt, (), request.system, mid, digest, request.private)
        first = next((m.content for m in request.prior if m.role == "user"), request.prompt)
        title = first if _visible(first) else ", ".join(a.name for a in files)
        cid = history.create_conversation(title, model, request.system, request.settings.temperature,
                                          request.private)
        for m in request.prior:  # a whole conversation given at once (`ask --messages`) is kept as it was given
            history.add_message(cid, m.role, m.content)
        mid = _add_question(history, cid, request.prompt, digest, files)
        return Turn(cid, request.prompt, request.prior, request.system, mid, digest, request.private, files)
    conv = history.get_conversation(request.conversation_id)
    shape = _shape(history, conv.id, request)
    system = request.system if request.system is not None else conv.system
    updates: dict[str, object] = {}
    if request.system is not None and request.system != conv.system:
        updates["system"] = request.system
    if model and model != conv.model:
        updates["model"] = model
    if request.private and not conv.private:
        updates["private"] = 1
    if updates:
        history.update_conversation(conv.id, **updates)
    private = request.private or conv.private
    if shape.question_id is not None:
        return _turn(conv.id, shape, system, shape.question_id, private)
    mid = _add_question(history, conv.id, request.prompt, digest, files, parent_id=shape.parent_id)
    return _turn(conv.id, shape, system, mid, private)


def _add_question(history: History, cid: str, prompt: str, digest: bytes, files: tuple[Attachment, ...],
                  parent_id: int | None = LEAF) -> int:
    mid = history.add_message(cid, "user", prompt, parent_id=parent_id, digest=digest)
    if files:
        history.add_attachments(mid, files)
    return mid
