"""Before sending: which model would answer now, and why (the estimate of a request is engine/estimate.py)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from assistant.core.errors import AssistantError
from assistant.core.types import ModelRef, RoutePreview
from assistant.engine import router

if TYPE_CHECKING:
    from assistant.engine.engine import Engine

# Policies under which any model on this machine that can answer comes first (it is free): the cloud candidates,
# and the keyring their availability needs, are not looked at then.
_LOCAL_WINS = ("local-first", "cheapest")


async def route_preview(engine: Engine, model: ModelRef | None) -> RoutePreview:
    """The router's plan for a request to `model` (None: let it choose), probing but sending nothing."""
    request = engine.new_request("", model=model)
    try:
        refs = engine.planner.static_refs(request)
    except AssistantError as exc:  # a bad default model: its message says how to fix it
        return RoutePreview(None, exc.message)
    general = engine.settings.general
    local_only = general.local_only
    cloud_named = model is not None and not engine.is_local(model.provider)
    if model is None and general.policy in _LOCAL_WINS:
        local = [r for r in refs if engine.is_local(r.provider)]
        found = await asyncio.gather(*(engine.planner.candidate(r, {}, False, True) for r in local))
        if local_only or any(c.available and c.healthy for c in found):
            return _described(router.plan(list(found), policy=general.policy, local_only=local_only), 0.0, 0.0)
    if cloud_named or model is None:
        # Whether a cloud model can answer depends on its key; looking keys up may import the keyring and talk to
        # D-Bus, so it happens in a thread, and only when a cloud model could be the answer.
        await asyncio.to_thread(engine.keys_present)
    candidates = await engine.planner.candidates(request, probe_named=True)
    budget = general.monthly_budget_usd
    spent = await engine.db.call(engine.call_log.month_spend) if budget > 0 else 0.0
    plan = router.plan(candidates, named=model, policy=general.policy, local_only=local_only,
                       budget_left=None if budget <= 0 else budget - spent)
    if model is not None and plan.steps:
        named = next((c for c in candidates if c.ref == plan.steps[0].ref), None)
        if named is not None and not named.available:  # asked for by name, so it is tried anyway: say why it may fail
            return RoutePreview(named.ref, plan.steps[0].reason, named.local, (named.detail,) if named.detail else ())
    return _described(plan, budget, spent)


def _described(plan: router.Plan, budget: float, spent: float) -> RoutePreview:
    if not plan.steps:
        return RoutePreview(None, router.refusal(plan, budget, spent).message)
    first = plan.steps[0]
    return RoutePreview(first.ref, first.reason, first.local, tuple(text for text, _ in router.skip_notes(plan)))
