"""Where a request may go: the models it could reach, their probes, the router's plan, and why nothing can answer.

Used by the chat flow, the route preview and the estimate; the router itself (pure) is engine/router.py.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from assistant.core.cache_key import key_for, messages_part, tools_part
from assistant.core.errors import AssistantError
from assistant.core.records import CallRecord
from assistant.core.spec import TOOLS
from assistant.core.tools import ToolSpec
from assistant.core.types import ChatRequest, ModelRef, ProviderRequest
from assistant.engine import router
from assistant.engine.recorder import TurnRecorder
from assistant.engine.session import Turn
from assistant.engine.tiers import Lookup

if TYPE_CHECKING:
    from assistant.engine.engine import Engine

SLOW_PROBE_MS = 500.0  # a refused connection takes a few ms; a probe this slow means a hung server


class Planner:
    """The engine's routing half; reads the engine's settings, providers, prices and health."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def static_refs(self, request: ChatRequest) -> list[ModelRef]:
        """Models the request could go to, known without probing anything (for cache lookups and the plan)."""
        if request.model:
            return [request.model]
        if self.engine.settings.general.default_model:
            return [self.engine.parse_model(self.engine.settings.general.default_model)]
        return self.engine.settings.default_refs(self.engine.specs, local_only=request.local_only or self.engine.settings.general.local_only)

    def lookup_for(self, turn: Turn, request: ChatRequest, tools: tuple[ToolSpec, ...] = ()) -> Lookup:
        """What the cache tiers look for: the request as each model it could go to would receive it, before
        anything is probed or paid for (with `tools` offered to the models that can call tools)."""
        try:
            refs = self.static_refs(request)
        except AssistantError:
            refs = []  # a bad default model is reported by the router, with its fix
        messages = turn.messages
        part = messages_part(messages)  # the messages' share of the key, the same for every candidate model
        offered = [tools if self._tooled(ref) else () for ref in refs]
        requests = tuple(ProviderRequest(ref, messages, request.settings, o) for ref, o in zip(refs, offered, strict=True))
        keys = tuple(key_for(ref, request.settings, part + tools_part(o)) for ref, o in zip(refs, offered, strict=True))
        return Lookup(keys, requests, turn.private, similar=request.semantic)

    async def _can_call_tools(self, ref: ModelRef) -> bool:
        try:
            return await self.engine.registry.get(ref.provider).supports_tools(ref.model)
        except AssistantError:
            return False

    def _tooled(self, ref: ModelRef) -> bool:
        spec = self.engine.specs.get(ref.provider)
        return spec is not None and spec.can(TOOLS)

    async def candidate(self, ref: ModelRef, latency: dict[str, float], named: bool, probe: bool,
                         tools: bool = False, images: bool = False) -> router.Candidate:
        local = self.engine.is_local(ref.provider)
        price = self.engine.prices.price(ref, local=local)
        extra = {"input_price": price.input_per_token, "output_price": price.output_per_token,
                 "quality": price.quality} if price else {"priced": False}
        if named and not probe:
            # The user asked for it: no probe (its own stream says clearly if it cannot answer), no waiting; only
            # whether it can call tools, when they are offered (Ollama knows that per model).
            can_call = not tools or await self._can_call_tools(ref)
            reads = not images or await self.engine.local_models.reads_images(ref)
            return router.Candidate(ref, True, "", local, tools=can_call, reads_images=reads, **extra)
        if self.engine.health.resting(ref.provider):
            # Not even probed: a resting provider must not cost the request any time.
            return router.Candidate(ref, True, self.engine.health.detail(ref.provider), local, healthy=False, **extra)
        try:
            provider = self.engine.registry.get(ref.provider)
        except AssistantError as exc:
            return router.Candidate(ref, False, exc.message, local, **extra)
        started = time.perf_counter()
        status = await provider.availability()
        probe_ms = (time.perf_counter() - started) * 1000
        chosen = provider.default_model() if status.available and not named else None
        if chosen:  # the model the provider would really use (Ollama: the one pulled), in its canonical spelling
            ref = ModelRef(ref.provider, self.engine.specs[ref.provider].canonical_model(chosen))
        if not status.available and probe_ms > SLOW_PROBE_MS:
            # Up but not answering (a hung server): rest it so the next requests do not wait for it again.
            self.engine.health.failure(ref.provider, "probe_timeout", status.detail)
        can_call = not tools or (status.available and await provider.supports_tools(ref.model))
        reads = True
        if images and status.available:  # asked only then: for Ollama one /api/show per model, remembered
            reads = await self.engine.local_models.reads_images(ref)
            if not reads and not named and local:  # another model here may read them (a pulled vision model)
                other = await self.engine.local_models.image_model_of(ref.provider)
                ref, reads = (other, True) if other is not None else (ref, False)
        return router.Candidate(ref, status.available, status.detail, local, latency_ms=latency.get(str(ref)),
                                probe_ms=probe_ms, tools=can_call, reads_images=reads, **extra)

    async def candidates(self, request: ChatRequest, *, probe_named: bool = False, tools: bool = False,
                         images: bool = False) -> list[router.Candidate]:
        """Each model the request could go to, probed (a named model only when `probe_named`: a preview asks);
        with `tools`, each says whether it can call them; with `images`, whether it reads them."""
        refs = self.static_refs(request)
        latency: dict[str, float] = {}
        if self.engine.settings.general.policy == "fastest":
            latency = await self.engine.db.call(self.engine.queries.stats.ttft_medians)
        named = request.model is not None
        return list(await asyncio.gather(*(self.candidate(r, latency, named, probe_named, tools, images)
                                           for r in refs)))

    async def plan(self, request: ChatRequest, prompt_tokens: int, rec: TurnRecorder | None, tools: bool = False,
                   images: bool = False) -> router.Plan:
        """The ordered models to try; with `tools`, those that can call tools first (see router.plan); with
        `images`, models that cannot read them are left out (or, named, refused). `rec` keeps slow probes on
        record (None for an estimate, which records nothing)."""
        candidates = await self.candidates(request, tools=tools, images=images)
        for c in candidates:  # a probe that timed out cost real time: kept, so later processes rest it too
            if rec is not None and not c.available and c.probe_ms > SLOW_PROBE_MS:
                rec.record(CallRecord(rec.request_id, rec.conversation_id, None, c.ref.provider, c.ref.model, "error",
                                      total_ms=c.probe_ms, error_kind="probe_timeout",
                                      route_reason=f"availability check: {c.detail}"))
        budget = self.engine.settings.general.monthly_budget_usd
        spent = await self.engine.db.call(self.engine.call_log.month_spend) if budget > 0 else 0.0
        return router.plan(candidates, named=request.model, policy=self.engine.settings.general.policy,
                           local_only=request.local_only or self.engine.settings.general.local_only,
                           budget_left=None if budget <= 0 else budget - spent,
                           tokens=(prompt_tokens, request.settings.max_tokens), tools=tools, images=images)

    async def refusal(self, plan: router.Plan) -> AssistantError:
        """Why nothing can answer, saying what to change (for images, which models would read them)."""
        budget = self.engine.settings.general.monthly_budget_usd
        spent = await self.engine.db.call(self.engine.call_log.month_spend) if budget > 0 else 0.0
        readers = await self.engine.local_models.image_models() if plan.refused_for("images") else []
        return router.refusal(plan, budget, spent, [str(r) for r in readers])

    async def refuse(self, plan: router.Plan, rec: TurnRecorder) -> AssistantError:
        """The error for an empty plan, kept as a request that got no answer (no provider was contacted)."""
        error = await self.refusal(plan)
        ref = plan.skipped[0].ref if plan.skipped else ModelRef("none", "none")
        rec.record(CallRecord(rec.request_id, rec.conversation_id, None, ref.provider, ref.model, "refused",
                              error_kind=error.kind, route_reason=error.message))
        return error

    def first_token_deadline(self, started: float) -> float | None:
        budget = self.engine.settings.network.first_token_timeout
        return started + budget if budget > 0 else None
