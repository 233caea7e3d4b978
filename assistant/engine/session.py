"""Turns a ChatRequest into the provider message list, using and updating the stored conversation."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.engine.types import ChatMessage, ChatRequest, GenerationSettings, ModelRef, ProviderRequest
from assistant.errors import UsageError
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
        messages = ((ChatMessage("system", self.system),) if self.system else ()) + self.prior + (ChatMessage("user", self.prompt),)
        return ProviderRequest(ref.canonical(), messages, settings)


def validate_prompt(prompt: str) -> str:
    if not prompt or not prompt.strip():
        raise UsageError("The prompt is empty; type a question, e.g. assistant ask \"What is the capital of France?\"")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise UsageError(f"The prompt is {len(prompt):,} characters; the limit is {MAX_PROMPT_CHARS:,}. Shorten it or split it.")
    return prompt


def begin_turn(history: History, request: ChatRequest) -> Turn:
    """Record the user's message before anything else, so it is never lost."""
    if not request.regenerate:
        validate_prompt(request.prompt)
    model = str(request.model) if request.model else None
    temperature = request.settings.temperature
    if request.conversation_id is None:
        cid = history.create_conversation(request.prompt, model, request.system, temperature)
        mid = history.add_message(cid, "user", request.prompt)
        return Turn(cid, request.prompt, (), request.system, mid)
    conv = history.get_conversation(request.conversation_id)
    stored = history.messages(conv.id)
    replaced = None
    prompt = request.prompt
    if request.regenerate:
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
            prior.append(ChatMessage(m.role, m.content))
    # A user message with no answer (the earlier request failed) would make two user turns in a row.
    merged: list[ChatMessage] = []
    for m in prior:
        if merged and merged[-1].role == m.role == "user":
            merged[-1] = ChatMessage("user", merged[-1].content + "\n\n" + m.content)
        else:
            merged.append(m)
    system = request.system if request.system is not None else conv.system
    updates: dict[str, object] = {}
    if request.system is not None and request.system != conv.system:
        updates["system"] = request.system
    if model and model != conv.model:
        updates["model"] = model
    if updates:
        history.update_conversation(conv.id, **updates)
    if not request.regenerate:
        mid = history.add_message(conv.id, "user", request.prompt)
    return Turn(conv.id, prompt, tuple(merged), system, mid, replaced)
