"""The engine: cache, then route, then stream with fallback, recording every step in SQLite."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import AsyncIterator

from assistant.config import Settings
from assistant.engine import router
from assistant.engine.accounting import Accountant, Money, choose_baseline, cloud_chain, estimate_tokens
from assistant.engine.cache_key import cache_key
from assistant.engine.events import Event, Failed, Finished, Notice, Started, TextDelta
from assistant.engine.health import Health
from assistant.engine.pricing import PriceTable
from assistant.engine.retry import RetryPolicy
from assistant.engine.run import RunState, stream_attempt
from assistant.engine.session import Turn, begin_turn
from assistant.engine.types import CLOUD_PROVIDERS, Answer, Attempt, ChatRequest, ModelInfo, ModelRef, Usage
from assistant.errors import AssistantError, UsageError
from assistant.providers.base import ProviderContext
from assistant.providers.http import SharedClient
from assistant.providers.registry import Registry
from assistant.secrets import KeyStore
from assistant.storage.cache import CachedAnswer, ResponseCache
from assistant.storage.history import CallRecord, History


SLOW_PROBE_MS = 500.0  # a refused connection takes a few ms; a probe this slow means a hung server


class Engine:
    """Owns the database connection, providers and cache for one process; UI-free."""

    def __init__(self, settings: Settings, conn: "object", *, registry: Registry | None = None,
                 keys: KeyStore | None = None, transport: "object | None" = None) -> None:
        self.settings = settings
        self.conn = conn
        self.history = History(conn)  # type: ignore[arg-type]
        self.cache = ResponseCache.from_settings(conn, settings.cache)  # type: ignore[arg-type]
        self.prices = PriceTable.load(settings.prices)
        self.keys = keys or KeyStore()
        self.http = SharedClient(settings.network, transport)  # type: ignore[arg-type]
        self.registry = registry or Registry(ProviderContext(settings, self.http, self.keys.get))
        self.accountant = Accountant(self.prices, self.baseline())
        self.retry = RetryPolicy(settings.network.max_retries, 0.5, settings.network.retry_max_wait)
        self.health = Health()
        self.health.seed(conn)  # type: ignore[arg-type]
        self.notices: list[str] = []  # start-up news for the user, e.g. a damaged database kept aside

    # models ---------------------------------------------------------------------------------
    def cloud_defaults(self) -> list[ModelRef]:
        return cloud_chain(self.settings)

    def baseline(self) -> ModelRef | None:
        return choose_baseline(self.settings, self.prices)

    def parse_model(self, text: str) -> ModelRef:
        return ModelRef.parse(text, tuple(self.registry.names))

    def _static_refs(self, request: ChatRequest) -> list[ModelRef]:
        """Models the request could go to, known without probing anything (for cache lookups)."""
        if request.model:
            return [request.model]
        if self.settings.general.default_model:
            return [self.parse_model(self.settings.general.default_model)]
        refs = [ModelRef("ollama", self.settings.ollama.model), ModelRef("embedded", self.settings.embedded.model_name)]
        if not (request.local_only or self.settings.general.local_only):
            refs += self.cloud_defaults()
        return refs

    async def _candidate(self, ref: ModelRef, latency: dict[str, float]) -> router.Candidate:
        price = self.prices.price(ref)
        extra: dict[str, object] = {"input_price": price.input_per_token, "output_price": price.output_per_token,
                                    "quality": price.quality} if price else {"priced": False}
        if self.health.resting(ref.provider):
            # Not even probed: a resting provider must not cost the request any time.
            return router.Candidate(ref, True, self.health.detail(ref.provider), healthy=False, **extra)  # type: ignore[arg-type]
        try:
            provider = self.registry.get(ref.provider)
        except AssistantError as exc:
            return router.Candidate(ref, False, exc.message, **extra)  # type: ignore[arg-type]
        if ref.provider in CLOUD_PROVIDERS:
            ok = bool(self.keys.get(ref.provider))
            return router.Candidate(ref, ok, "" if ok else f"no {ref.provider} key", latency_ms=latency.get(str(ref)),
                                    **extra)  # type: ignore[arg-type]
        started = time.perf_counter()
        status = await provider.availability()
        probe_ms = (time.perf_counter() - started) * 1000
        if ref.provider == "ollama" and status.available:
            ref = ModelRef("ollama", provider.default_model() or ref.model)
        if not status.available and probe_ms > SLOW_PROBE_MS:
            # Up but not answering (a hung server): rest it so the next requests do not wait for it again.
            self.health.failure(ref.provider, "probe_timeout", status.detail)
        return router.Candidate(ref, status.available, status.detail, latency_ms=latency.get(str(ref)),
                                probe_ms=probe_ms, **extra)  # type: ignore[arg-type]

    async def candidates(self, request: ChatRequest) -> list[router.Candidate]:
        refs = self._static_refs(request)
        latency: dict[str, float] = {}
        if self.settings.general.policy == "fastest":
            from assistant.storage.stats import ttft_medians

            latency = ttft_medians(self.conn)  # type: ignore[arg-type]
        return list(await asyncio.gather(*(self._candidate(r, latency) for r in refs)))

    async def list_models(self) -> dict[str, list[ModelInfo]]:
        """Every model the app can use, grouped by provider; a broken provider shows as unavailable."""
        async def one(name: str) -> tuple[str, list[ModelInfo]]:
            try:
                provider = self.registry.get(name)
                if name in CLOUD_PROVIDERS:
                    has_key = bool(self.keys.get(name))
                    detail = "key present" if has_key else f"no key: run `assistant keys set {name}`"
                    refs = self.prices.cloud_models(name) or [ModelRef(name, getattr(self.settings, name).model)]
                    return name, [ModelInfo(r, has_key, detail) for r in refs]
                return name, await provider.list_models()
            except AssistantError as exc:
                return name, [ModelInfo(ModelRef(name, "?"), False, exc.message)]
        return dict(await asyncio.gather(*(one(n) for n in self.registry.names)))

    # chat -------------------------------------------------------------------------------------
    async def chat(self, request: ChatRequest) -> AsyncIterator[Event]:
        """The one entry point: yields Started, TextDelta, Notice, then Finished or Failed."""
        try:
            turn = begin_turn(self.history, request)
        except AssistantError as exc:
            yield Failed(exc, request.conversation_id)
            return
        request_id = uuid.uuid4().hex
        t0 = time.perf_counter()
        hit = self._lookup(turn, request) if self._looks_up(request) else None
        if hit is not None:
            async for event in self._replay(hit, turn, request_id, t0):
                yield event
            return
        try:
            candidates = await self.candidates(request)
            self._record_slow_probes(candidates, turn, request_id)
            plan = router.plan(
                candidates, named=request.model, policy=self.settings.general.policy,
                local_only=request.local_only or self.settings.general.local_only, budget_left=self._budget_left(),
                tokens=(self._prompt_tokens(turn), request.settings.max_tokens),
            )
        except AssistantError as exc:
            yield Failed(exc, turn.conversation_id)
            return
        if not plan.steps:
            yield Failed(self._nothing_can_answer(plan, turn, request_id), turn.conversation_id)
            return
        attempts: list[Attempt] = []
        for text, level in router.skip_notes(plan):
            yield Notice(text, level)
        last_error: AssistantError | None = None
        for index, step in enumerate(plan.steps):
            if index and not self.settings.general.fallback:
                break
            if index:
                yield Notice(f"{attempts[-1].ref} failed ({last_error.message if last_error else 'unknown'}) - trying {step.ref}.", "warning")
            state = RunState(step.ref)
            self.health.begin(step.ref.provider)
            try:
                async for event in self._attempt(step, turn, request, request_id, state, attempts):
                    yield event
            except (asyncio.CancelledError, GeneratorExit):
                self.health.abandon(step.ref.provider)
                self._interrupted(state, turn, request_id, step.reason)
                raise
            if state.error is None:
                self.health.success(step.ref.provider)
                reason = router.explain(plan, step, attempts, self.settings.general.policy)
                yield Finished(self._complete(state, turn, request, request_id, reason, attempts, t0))
                return
            last_error = state.error
            if state.parts or not state.error.falls_back or request.model:
                break
        assert last_error is not None
        yield Failed(last_error, turn.conversation_id, "")

    async def _attempt(self, step: router.Step, turn: Turn, request: ChatRequest, request_id: str,
                       state: RunState, attempts: list[Attempt]) -> AsyncIterator[Event]:
        try:
            provider = self.registry.get(step.ref.provider)
        except AssistantError as exc:
            state.error = exc
            self._failed_attempt(state, exc, turn, request_id, step.reason, attempts)
            return
        preq = turn.provider_request(step.ref, request.settings)

        def failed(s: RunState, e: AssistantError) -> None:
            self._failed_attempt(s, e, turn, request_id, step.reason, attempts)

        async for event in stream_attempt(provider, preq, state, history=self.history, conversation_id=turn.conversation_id,
                                          reason=step.reason, retry=self.retry, on_failure=failed):
            yield event
        if state.error is not None and state.message_id is not None:
            # A stream cut after some text: keep what arrived, marked interrupted, never cached.
            self.history.finish_answer(state.message_id, "interrupted", state.text)

    # bookkeeping --------------------------------------------------------------------------------
    def _usage(self, state: RunState, turn: Turn) -> Usage:
        usage = state.usage
        if usage is not None and not usage.estimated:
            return usage
        return Usage(
            usage.input_tokens if usage and usage.input_tokens else self._prompt_tokens(turn),
            usage.output_tokens if usage and usage.output_tokens else estimate_tokens(len(state.text)),
            estimated=True,
        )

    def _failed_attempt(self, state: RunState, error: AssistantError, turn: Turn, request_id: str, reason: str,
                        attempts: list[Attempt]) -> None:
        attempts.append(Attempt(state.ref, error.kind, error.message, state.elapsed_ms))
        self.health.failure(state.ref.provider, error.kind, error.message)
        usage, cost = Usage(), 0.0
        if state.parts:  # a stream cut after text was still billed for what it sent: estimate it honestly
            usage = self._usage(state, turn)
            cost = self.accountant.fresh(state.ref, usage).cost_usd
        self.history.record_call(CallRecord(
            request_id, turn.conversation_id, state.message_id, state.ref.provider, state.ref.model, "error",
            usage.input_tokens, usage.output_tokens, cost, usage.estimated,
            total_ms=state.elapsed_ms, ttft_ms=state.ttft_ms, error_kind=error.kind, route_reason=reason,
        ))

    def _interrupted(self, state: RunState, turn: Turn, request_id: str, reason: str) -> None:
        if state.message_id is not None:
            self.history.finish_answer(state.message_id, "interrupted", state.text)
        usage = self._usage(state, turn)
        money = self.accountant.fresh(state.ref, usage)
        self.history.record_call(CallRecord(
            request_id, turn.conversation_id, state.message_id, state.ref.provider, state.ref.model, "interrupted",
            usage.input_tokens, usage.output_tokens, money.cost_usd, True, 0.0, None, money.baseline,
            ttft_ms=state.ttft_ms, total_ms=state.elapsed_ms, route_reason=reason,
        ))

    def _complete(self, state: RunState, turn: Turn, request: ChatRequest, request_id: str, reason: str,
                  attempts: list[Attempt], t0: float) -> Answer:
        usage = self._usage(state, turn)
        money = self.accountant.fresh(state.ref, usage)
        if state.message_id is None:  # an empty answer still gets a row, so the turn is complete
            state.message_id = self.history.start_answer(turn.conversation_id, state.ref.provider, state.ref.model)
        self.history.finish_answer(state.message_id, "complete", state.text)
        if turn.replaced_answer_id is not None:
            self.history.delete_message(turn.replaced_answer_id)
        key = cache_key(turn.provider_request(state.ref, request.settings))
        total_ms = (time.perf_counter() - t0) * 1000
        self.history.record_call(self._call(request_id, turn, state.message_id, state.ref, usage, money, False,
                                            state.ttft_ms, state.elapsed_ms, reason, key))
        if self.settings.cache.enabled:
            self.cache.put(CachedAnswer(key, state.ref.provider, state.ref.model, state.text, usage.input_tokens,
                                        usage.output_tokens, money.cost_usd, money.estimated, state.ttft_ms,
                                        state.elapsed_ms, time.time()))
        if self._looks_up(request):
            self.cache.note_miss(request_id)
        self.history.touch(turn.conversation_id)
        return Answer(state.text, state.ref.provider, state.ref.model, False, usage, money.cost_usd, money.saved_usd,
                      state.ttft_ms, total_ms, turn.conversation_id, state.message_id, reason, money.estimated,
                      tuple(attempts))

    async def _replay(self, hit: CachedAnswer, turn: Turn, request_id: str, t0: float) -> AsyncIterator[Event]:
        ref = ModelRef(hit.provider, hit.model)
        reason = f"{ref} - cached answer"
        yield Started(turn.conversation_id, ref, reason, cached=True)
        ttft = (time.perf_counter() - t0) * 1000
        yield TextDelta(hit.text)
        usage = Usage(hit.input_tokens, hit.output_tokens, hit.cost_estimated)
        money = self.accountant.cache_hit(ref, usage, hit.cost_usd)
        mid = self.history.start_answer(turn.conversation_id, ref.provider, ref.model)
        self.history.finish_answer(mid, "complete", hit.text)
        total = (time.perf_counter() - t0) * 1000
        self.history.record_call(self._call(request_id, turn, mid, ref, usage, money, True, ttft, total, reason, hit.key))
        yield Finished(Answer(hit.text, ref.provider, ref.model, True, usage, 0.0, money.saved_usd, ttft, total,
                              turn.conversation_id, mid, reason, money.estimated))

    @staticmethod
    def _call(request_id: str, turn: Turn, mid: int | None, ref: ModelRef, usage: Usage, money: Money, cached: bool,
              ttft: float | None, total: float, reason: str, key: str) -> CallRecord:
        return CallRecord(request_id, turn.conversation_id, mid, ref.provider, ref.model, "ok", usage.input_tokens,
                          usage.output_tokens, money.cost_usd, money.estimated, money.saved_usd, money.saved_source,
                          money.baseline, cached, ttft, total, None, reason, key)

    def _budget_left(self) -> float | None:
        budget = self.settings.general.monthly_budget_usd
        return None if budget <= 0 else budget - self.history.month_spend()

    def _prompt_tokens(self, turn: Turn) -> int:
        chars = sum(len(m.content) for m in turn.prior) + len(turn.prompt) + len(turn.system or "")
        return estimate_tokens(chars)

    def _record_slow_probes(self, candidates: list[router.Candidate], turn: Turn, request_id: str) -> None:
        """A probe that timed out cost the request real time: keep it as an attempt, so later processes rest it too."""
        for c in candidates:
            if not c.available and c.probe_ms > SLOW_PROBE_MS:
                self.history.record_call(CallRecord(
                    request_id, turn.conversation_id, None, c.ref.provider, c.ref.model, "error", total_ms=c.probe_ms,
                    error_kind="probe_timeout", route_reason=f"availability check: {c.detail}"))

    def _nothing_can_answer(self, plan: router.Plan, turn: Turn, request_id: str) -> AssistantError:
        budget = self.settings.general.monthly_budget_usd
        error = router.refusal(plan, budget, self.history.month_spend() if budget > 0 else 0.0)
        # Kept as a request that got no answer (outcome "refused": no provider was contacted, so health ignores it).
        ref = plan.skipped[0].ref if plan.skipped else ModelRef("none", "none")
        self.history.record_call(CallRecord(request_id, turn.conversation_id, None, ref.provider, ref.model, "refused",
                                            error_kind=error.kind, route_reason=error.message))
        return error

    def _lookup(self, turn: Turn, request: ChatRequest) -> CachedAnswer | None:
        """The cached answer of any model the request could go to, before anything is probed or paid for."""
        try:
            refs = self._static_refs(request)
        except AssistantError:
            return None  # a bad default model is reported by the router, with its fix
        for ref in refs:
            hit = self.cache.get(cache_key(turn.provider_request(ref, request.settings)))
            if hit is not None:
                return hit
        return None

    def _looks_up(self, request: ChatRequest) -> bool:
        """--no-cache and regenerate skip the lookup (the fresh answer is still stored and replaces the old)."""
        return request.use_cache and self.settings.cache.enabled and not request.regenerate

    async def aclose(self) -> None:
        self.cache.flush()
        await self.registry.aclose()
        await self.http.aclose()


def require_model(engine: Engine, text: str) -> ModelRef:
    """Parse -m; an unknown provider is a usage error that lists the real ones."""
    if not text:
        raise UsageError("No model given after -m; use provider:model, e.g. -m embedded:smollm2.")
    return engine.parse_model(text)
