"""Turns a ChatRequest into the provider message list, using and updating the stored conversation."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from assistant.core.errors import UsageError
from assistant.core.types import ChatMessage, ChatRequest, GenerationSettings, ModelRef, ProviderRequest
from assistant.storage.history import History

MAX_PROMPT_CHARS = 4_000_000


@dataclass(frozen=True)
class Turn:
    """The conversation this request belongs to and everything sent before the new prompt."""

    conversation_id: str
    prompt: str
    prior: tuple[ChatMessage, ...]
    system: str | None
    user_message_id: int
    replaced_answer_id: int | None = None

    def provider_request(self, ref: ModelRef, settings: GenerationSettings) -> ProviderRequest:
        system = (ChatMessage("system", self.system),) if self.system else ()
        return ProviderRequest(ref, system + self.prior + (ChatMessage("user", self.prompt),), settings)

    @property
    def chars(self) -> int:
        return sum(len(m.content) for m in self.prior) + len(self.prompt) + len(self.system or "")


def _visible(text: str) -> bool:
    """True when the text has something besides spaces and invisible format characters (zero-width spaces)."""
    return any(not c.isspace() and unicodedata.category(c) not in ("Cf", "Cc") for c in text)


def validate_prompt(prompt: str) -> str:
    if not prompt or not _visible(prompt):
        raise UsageError("The prompt is empty; type a question, e.g. assistant ask \"What is the capital of France?\"")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise UsageError(f"The prompt is {len(prompt):,} characters; the limit is {MAX_PROMPT_CHARS:,}. Shorten it or split it.")
    return prompt


def _prior(history: History, cid: str, regenerate: bool) -> tuple[list[ChatMessage], int | None, int | None, str | None]:
    """Earlier turns as the model should see them; for regenerate, also the question to answer again."""
    stored = history.messages(cid)
    replaced = None
    mid = prompt = None
    if regenerate:
        # Regenerate answers the last user message again instead of adding a turn.
        while stored and stored[-1].role == "assistant":
            replaced = stored[-1].id
            stored = stored[:-1]
        if not stored or stored[-1].role != "user":
            raise UsageError("There is no question to regenerate an answer for in this conversation.")
        mid, prompt = stored[-1].id, stored[-1].content
        stored = stored[:-1]
    prior: list[ChatMessage] = []
    for m in stored:
        # Failed answers are left out; an interrupted one is kept so the model sees what it said.
        if m.role in ("user", "assistant") and m.status != "failed" and (m.content or m.role == "user"):
            if prior and prior[-1].role == m.role == "user":
                # A question whose answer failed: merged with the next, as APIs refuse two user turns in a row.
                prior[-1] = ChatMessage("user", prior[-1].content + "\n\n" + m.content)
            else:
                prior.append(ChatMessage(m.role, m.content))
    return prior, replaced, mid, prompt


def begin_turn(history: History, request: ChatRequest) -> Turn:
    """Record the user's message before anything else, so it is never lost."""
    if not request.regenerate:
        validate_prompt(request.prompt)
    model = str(request.model) if request.model else None
    if request.conversation_id is None:
        cid = history.create_conversation(request.prompt, model, request.system, request.settings.temperature)
        mid = history.add_message(cid, "user", request.prompt)
        return Turn(cid, request.prompt, (), request.system, mid)
    conv = history.get_conversation(request.conversation_id)
    prior, replaced, mid_regen, prompt_regen = _prior(history, conv.id, request.regenerate)
    system = request.system if request.system is not None else conv.system
    updates: dict[str, object] = {}
    if request.system is not None and request.system != conv.system:
        updates["system"] = request.system
    if model and model != conv.model:
        updates["model"] = model
    if updates:
        history.update_conversation(conv.id, **updates)
    if request.regenerate:
        assert mid_regen is not None and prompt_regen is not None
        return Turn(conv.id, prompt_regen, tuple(prior), system, mid_regen, replaced)
    mid = history.add_message(conv.id, "user", request.prompt)
    prompt = request.prompt
    if prior and prior[-1].role == "user":  # the last question got no answer: ask both together
        prompt = prior.pop().content + "\n\n" + prompt
    return Turn(conv.id, prompt, tuple(prior), system, mid, replaced)
