"""A request's estimate before sending: its tokens (exact where the model's tokenizer is here), the context window,
the cost range and what would stop it; with `route`, the route the router would take, as `ask --dry-run` shows."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from assistant.core.errors import AssistantError
from assistant.core.money import usd
from assistant.core.tokens import TokenCount
from assistant.core.types import ChatRequest, Estimate, ModelRef, Usage
from assistant.engine import router
from assistant.engine.accounting import estimate_tokens
from assistant.engine.session import Turn, preview_turn

if TYPE_CHECKING:
    from assistant.engine.engine import Engine

# Warn when the longest answer could take this share of what is left of the monthly budget.
BUDGET_WARNING_SHARE = 0.8


async def _count(engine: Engine, turn: Turn, ref: ModelRef, request: ChatRequest) -> tuple[TokenCount, TokenCount]:
    """The whole request, and the question alone (its files and images with it), as the model would count them."""
    alone = replace(turn, prior=(), system=None)
    try:
        provider = engine.registry.get(ref.provider)
    except AssistantError:  # a provider that cannot load: the request's size is still worth knowing
        return (TokenCount(estimate_tokens(turn.chars), False), TokenCount(estimate_tokens(alone.chars), False))
    whole = await provider.count_tokens(turn.provider_request(ref, request.settings))
    question = await provider.count_tokens(alone.provider_request(ref, request.settings))
    return whole, question


def _window_warnings(tokens: int, max_output: int, window: int | None, ref: ModelRef) -> list[str]:
    if window is None:
        return []
    if tokens > window:
        return [f"The request is {tokens:,} tokens, more than {ref}'s context window of {window:,}: shorten it, "
                "drop a file, or pick a model with a larger window."]
    if tokens + max_output > window:
        return [f"Only {window - tokens:,} of the {max_output:,} answer tokens fit in {ref}'s context window of "
                f"{window:,}: the answer may be cut short."]
    return []


async def _down(engine: Engine, ref: ModelRef) -> list[str]:
    """A named model is tried even when it cannot answer: say so before anything is sent."""
    try:
        status = await engine.registry.get(ref.provider).availability()
    except AssistantError as exc:
        return [f"{ref} cannot answer now: {exc.message}"]
    return [] if status.available else [f"{ref} cannot answer now: {status.detail}"]


async def _budget(engine: Engine, high: float | None, local: bool) -> list[str]:
    budget = engine.settings.general.monthly_budget_usd
    if budget <= 0 or local or high is None:
        return []
    left = budget - await engine.db.call(engine.call_log.month_spend)
    if high > left * BUDGET_WARNING_SHARE:
        return [f"This could cost up to {usd(high)} of the {usd(max(0.0, left))} left in the monthly budget."]
    return []


def _first_static(engine: Engine, request: ChatRequest) -> ModelRef | None:
    try:
        refs = engine.planner.static_refs(request)
    except AssistantError:
        return None
    return refs[0] if refs else None


def _named_reason(s: router.Step) -> str:
    return s.reason if s.reason.startswith(str(s.ref)) else f"{s.ref}: {s.reason}"


async def estimate(engine: Engine, request: ChatRequest, ref: ModelRef | None = None, *,
                   route: bool = False) -> Estimate:
    """Figures for `request.model`, else `ref`, else the router's first static choice (nothing probed: what the
    chat app shows as you type); with `route`, for the model the router would really try first (probed, as
    `ask --dry-run` shows). Nothing is sent and nothing is written."""
    turn = await engine.db.call(preview_turn, engine.history_log, request)
    plan: router.Plan | None = None
    refusal = ""
    if route:
        plan = await engine.planner.plan(request, estimate_tokens(turn.chars), None, images=turn.has_images)
        if plan.steps:
            ref = plan.steps[0].ref
        else:
            refusal = (await engine.planner.refusal(plan)).message
            # The figures are for the model named, else the one refused for the reason given first.
            refused = [s for s in plan.skipped if s.code == "images"] or list(plan.skipped)
            ref = request.model or (refused[0].ref if refused else None)
    else:
        ref = request.model or ref or _first_static(engine, request)
    out = request.settings.max_tokens
    if ref is None:
        total = estimate_tokens(turn.chars)
        return Estimate(None, total, 0, out, None, None, None, images=turn.images, refusal=refusal)
    whole, question = await _count(engine, turn, ref, request)
    facts = await engine.local_models.facts(ref)
    local = engine.is_local(ref.provider)
    price = engine.price(ref)
    low = high = None
    if price is not None:
        low = price.cost(Usage(whole.tokens, 0))
        high = price.cost(Usage(whole.tokens, out))
    warnings = _window_warnings(whole.tokens, out, facts.context, ref)
    if plan is None or plan.steps:
        warnings += await _budget(engine, high, local)
    if plan is not None and plan.steps:
        if request.model is not None:  # probing a cloud model may ask the keyring: only when routing was asked for
            warnings += await _down(engine, ref)
        warnings += [text for text, level in router.skip_notes(plan) if level == "warning"]
    prompt = min(question.tokens, whole.tokens)
    return Estimate(ref, prompt, whole.tokens - prompt, out, facts.context, low, high, not whole.exact, turn.images,
                    local, tuple(s.reason for s in plan.steps) if plan else (),
                    tuple(_named_reason(s) for s in plan.skipped) if plan else (), tuple(warnings), refusal)
