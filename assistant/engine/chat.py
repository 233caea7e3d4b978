"""One request through the engine: cache, then route, then stream with fallback, recording every step."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import replace
from typing import TYPE_CHECKING

from assistant.core.cache_key import cache_key
from assistant.core.errors import AssistantError, DatabaseReadOnly, DiskFull, StorageError
from assistant.core.events import Event, Failed, Finished, Notice, SimilarFound, Started, TextDelta, Waiting
from assistant.core.records import CachedAnswer, CallRecord
from assistant.core.tools import ToolSpec
from assistant.core.types import Answer, Attempt, ChatRequest, ModelRef, Usage
from assistant.engine import router
from assistant.engine.accounting import estimate_tokens
from assistant.engine.recorder import TurnRecorder, answer_call
from assistant.engine.run import RunState, stream_attempt
from assistant.engine.session import Turn, begin_turn, preview_turn
from assistant.engine.tiers import REPLAYED, ExactTier, Hit, Lookup, Tier
from assistant.engine.tools_loop import model_turns

if TYPE_CHECKING:
    from assistant.core.types import ProviderRequest
    from assistant.engine.engine import Engine
    from assistant.providers.base import Provider


class ChatRun:
    """Everything one request needs while it runs; made by Engine.chat, used once."""

    def __init__(self, engine: Engine, request: ChatRequest) -> None:
        self.engine = engine
        self.request = request
        self.request_id = os.urandom(16).hex()  # as random as uuid4, without importing uuid (and platform)
        self.t0 = time.perf_counter()
        self.attempts: list[Attempt] = []
        self.tools: tuple[ToolSpec, ...] = ()  # offered to the models that can call tools
        self.declined: Hit | None = None  # a similar question's answer the user chose not to use

    @property
    def looks_up(self) -> bool:
        """--no-cache and regenerate skip the lookup (the fresh answer is still stored and replaces the old)."""
        return self.request.use_cache and self.engine.settings.cache.enabled and not self.request.regenerate

    async def events(self) -> AsyncGenerator[Event, None]:
        engine, request = self.engine, self.request
        tooled = engine.tools.configured and request.tools.enabled  # the key waits for the tools on offer
        try:
            turn, early, known = await engine.db.call(self._begin, tooled)
        except (DiskFull, DatabaseReadOnly) as exc:
            async with aclosing(self._unsaved(exc)) as unsaved:
                async for event in unsaved:
                    yield event
            return
        except AssistantError as exc:
            yield Failed(exc, request.conversation_id)
            return
        rec = TurnRecorder(engine.db, engine.history_log, engine.call_log, turn.conversation_id, self.request_id,
                           turn.user_message_id)
        if tooled:
            if not engine.tools.started:
                yield Waiting("starting MCP servers")
            self.tools = await engine.tools.offered(request.tools)
            for line in engine.tools.failures():
                yield Notice(line, "warning")
        lookup = early or engine.planner.lookup_for(turn, request, self.tools)
        if self.looks_up:
            hit, missed = await engine.tiers.lookup(lookup, known)
            if hit is not None and hit.similarity is not None and request.semantic == "suggest":
                # The user chooses: the earlier answer (free) or a model. The request waits for the choice.
                decision: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
                yield self._offer(hit, turn, decision)
                use = await decision
                self.t0 = time.perf_counter()  # the time spent choosing is the user's, not the answer's
                if not use:
                    self.declined = hit
                    hit = None
            if hit is not None:
                async with aclosing(self._replay(hit, missed, turn, rec)) as replay:
                    async for event in replay:
                        yield event
                return
        try:
            plan = await engine.planner.plan(request, self._prompt_tokens(turn), rec, tools=bool(self.tools),
                                     images=turn.has_images)
        except AssistantError as exc:
            yield Failed(exc, turn.conversation_id)
            return
        if not plan.steps:
            yield Failed(await engine.planner.refuse(plan, rec), turn.conversation_id)
            return
        for text, level in router.skip_notes(plan):
            yield Notice(text, level)
        # Closing a generator does not close the ones it iterates: aclosing passes a stop (the reader went
        # away, or Esc) down to the attempt, which keeps what arrived and settles its row.
        async with aclosing(self._attempts(plan, turn, rec, lookup)) as attempts:
            async for event in attempts:
                yield event

    def _begin(self, tooled: bool) -> tuple[Turn, Lookup | None, dict[str, Hit | None]]:
        """On the database thread, in one hop: the question recorded, then (when no tools change the key) the
        exact tier asked, so a new question reaches its model one thread round trip sooner."""
        engine = self.engine
        turn = begin_turn(engine.history_log, self.request)
        if tooled or not self.looks_up:
            return turn, None, {}
        lookup = engine.planner.lookup_for(turn, self.request, ())
        exact = engine.tiers.named("exact")
        try:
            found = exact.find(lookup) if isinstance(exact, ExactTier) else None
        except AssistantError:  # the tiers' own lookup says what went wrong, as it always has
            return turn, lookup, {}
        return turn, lookup, {"exact": found}

    async def _unsaved(self, problem: StorageError) -> AsyncGenerator[Event, None]:
        """Nothing can be written: a cached answer is still shown, marked as not saved; no model is asked, since
        neither the question, the answer nor its cost could be recorded."""
        engine, request = self.engine, self.request
        hit = None
        if self.looks_up:
            try:
                turn = await engine.db.call(preview_turn, engine.history_log, request)
                hit, _ = await engine.tiers.lookup(engine.planner.lookup_for(turn, request, ()))
            except AssistantError:
                hit = None
        if hit is None or hit.similarity is not None:  # a similar question's answer is offered, never just shown
            yield Failed(problem, request.conversation_id)
            return
        yield Notice(f"This answer comes from the cache and is not saved in history: {problem.message}", "warning")
        async with aclosing(self._replay(hit, [], turn, None)) as replay:
            async for event in replay:
                yield event

    async def _attempts(self, plan: router.Plan, turn: Turn, rec: TurnRecorder,
                        lookup: Lookup) -> AsyncGenerator[Event, None]:
        engine, request = self.engine, self.request
        # Set when the first cloud model is asked: time spent on local models (a slow failure) does not use it up.
        deadline: float | None = None
        last_error: AssistantError | None = None
        for index, step in enumerate(plan.steps):
            if index and not engine.settings.general.fallback:
                break
            if not step.local:
                if deadline is None:
                    deadline = engine.planner.first_token_deadline(time.perf_counter())
                elif time.perf_counter() >= deadline:
                    continue  # the request's first-token budget is spent: only a model on this machine may answer
            if index:
                why = last_error.message if last_error else "unknown"
                yield Notice(f"{self.attempts[-1].ref} failed ({why}) - trying {step.ref}.", "warning")
            state = RunState(step.ref, step.local)
            engine.health.begin(step.ref.provider)
            try:
                async with aclosing(self._attempt(step, turn, rec, state, None if step.local else deadline)) as run:
                    async for event in run:
                        yield event
            except (asyncio.CancelledError, GeneratorExit):
                engine.health.abandon(step.ref.provider)
                self._interrupted(state, turn, rec)
                raise
            except StorageError as exc:
                engine.health.abandon(step.ref.provider)  # the provider did nothing wrong
                yield Failed(exc, turn.conversation_id, state.text)
                return
            if state.error is None:
                engine.health.success(step.ref.provider)
                reason = router.explain(plan, step, self.attempts, engine.settings.general.policy)
                async for event in self._complete(state, turn, rec, reason, lookup):
                    yield event
                return
            last_error = state.error
            if state.underway or not state.error.falls_back or request.model:
                break
        assert last_error is not None
        yield Failed(last_error, turn.conversation_id, "")

    async def _attempt(self, step: router.Step, turn: Turn, rec: TurnRecorder, state: RunState,
                       deadline: float | None) -> AsyncGenerator[Event, None]:
        engine = self.engine
        try:
            provider = engine.registry.get(step.ref.provider)
        except AssistantError as exc:
            state.error = exc
            self._failed(state, exc, turn, rec, step.reason)
            return
        state.offered = self.tools if step.tools else ()
        preq = turn.provider_request(step.ref, self.request.settings, state.offered)

        def failed(s: RunState, e: AssistantError) -> None:
            self._failed(s, e, turn, rec, step.reason)

        def stream(provider: Provider, preq: ProviderRequest, state: RunState, *, continuing: bool = False,
                   deadline: float | None) -> AsyncGenerator[Event, None]:
            return stream_attempt(provider, preq, state, recorder=rec, reason=step.reason, retry=engine.retry,
                                  deadline=deadline, on_failure=failed, prompt_tokens=self._prompt_tokens(turn),
                                  continuing=continuing)

        if state.offered:  # the model may ask for tools: turns continue until it answers in text
            next_deadline = (lambda: None) if step.local else (lambda: engine.planner.first_token_deadline(time.perf_counter()))
            run = model_turns(engine.tools, self.request.tools, provider, preq, state, rec, stream, deadline,
                              next_deadline)
        else:
            run = stream(provider, preq, state, deadline=deadline)
        async with aclosing(run) as events:
            async for event in events:
                yield event

    # bookkeeping --------------------------------------------------------------------------------
    def _prompt_tokens(self, turn: Turn) -> int:
        return estimate_tokens(turn.chars)

    def _usage(self, state: RunState, turn: Turn) -> Usage:
        usage = state.usage
        if usage is not None and not usage.estimated:
            return usage
        return Usage(
            usage.input_tokens if usage and usage.input_tokens else self._prompt_tokens(turn),
            usage.output_tokens if usage and usage.output_tokens else estimate_tokens(len(state.text)),
            estimated=True,
        )

    def _failed(self, state: RunState, error: AssistantError, turn: Turn, rec: TurnRecorder, reason: str) -> None:
        """Called for every failed try, retries included: the breaker and the calls table see each one."""
        self.attempts.append(Attempt(state.ref, error.kind, error.message, state.elapsed_ms))
        self.engine.health.failure(state.ref.provider, error.kind, error.message)
        usage, cost = Usage(), 0.0
        if state.underway:  # a stream cut after text (or tool calls) was still billed for what it sent: estimate it
            usage = self._usage(state, turn)
            cost = self.engine.accountant.fresh(state.ref, usage).cost_usd
        call = CallRecord(self.request_id, turn.conversation_id, None, state.ref.provider, state.ref.model, "error",
                          usage.input_tokens, usage.output_tokens, cost, usage.estimated, total_ms=state.elapsed_ms,
                          ttft_ms=state.ttft_ms, error_kind=error.kind, route_reason=reason)
        # A stream cut after some text keeps what arrived, marked interrupted, never cached.
        cut = state.underway
        rec.attempt_ended(call, status="interrupted" if cut else None, text=state.text if cut else None)

    def _interrupted(self, state: RunState, turn: Turn, rec: TurnRecorder) -> None:
        usage = self._usage(state, turn)
        money = self.engine.accountant.fresh(state.ref, usage)
        call = CallRecord(self.request_id, turn.conversation_id, None, state.ref.provider, state.ref.model,
                          "interrupted", usage.input_tokens, usage.output_tokens, money.cost_usd, True, 0.0, None,
                          money.baseline, ttft_ms=state.ttft_ms, total_ms=state.elapsed_ms)
        rec.attempt_ended(call, status="interrupted", text=state.text)

    async def _complete(self, state: RunState, turn: Turn, rec: TurnRecorder, reason: str,
                        lookup: Lookup) -> AsyncGenerator[Event, None]:
        engine, request = self.engine, self.request
        usage = self._usage(state, turn)
        money = engine.accountant.fresh(state.ref, usage)
        answered = turn.provider_request(state.ref, request.settings, state.offered)
        key = cache_key(answered)
        # An answer that called tools is kept in no tier: a tool may have side effects, or answer differently later.
        storable = engine.settings.cache.enabled and not state.tool_results
        ttft = state.ttft_ms
        # Read once: the answer line, the latency panel and the cache all show the same time (and tokens/s).
        answer_ms = state.elapsed_ms
        call = answer_call(self.request_id, turn.conversation_id, state.ref, usage, money, False, ttft, answer_ms,
                           reason, key)
        call = _with_similar(call, self.declined)
        entry = CachedAnswer(key, state.ref.provider, state.ref.model, state.text, usage.input_tokens,
                             usage.output_tokens, money.cost_usd, money.estimated, ttft, answer_ms, time.time())
        problem: StorageError | None = None
        try:
            keep = (lambda: engine.tiers.keep(lookup, answered, entry)) if storable else None
            mid: int | None = await rec.complete(call, state.text, keep=keep, looked_up=self.looks_up)
        except StorageError as exc:
            problem, mid = exc, None
        if problem is None:
            problem = rec.failure
        if problem is not None:  # one line: history keeps what was written before the failure
            yield Notice(f"The answer was shown but not saved in full: {problem.message}", "warning")
        total_ms = (time.perf_counter() - self.t0) * 1000
        yield Finished(Answer(state.text, state.ref.provider, state.ref.model, False, usage, money.cost_usd,
                              money.saved_usd, ttft, total_ms, turn.conversation_id, mid, reason, money.estimated,
                              tuple(self.attempts), answer_ms, tool_results=tuple(state.tool_results),
                              tools_ms=state.tools_ms))

    def _offer(self, hit: Hit, turn: Turn, decision: asyncio.Future[bool]) -> SimilarFound:
        entry, loop = hit.entry, decision.get_loop()
        ref = ModelRef(entry.provider, entry.model)
        usage = Usage(entry.input_tokens, entry.output_tokens, entry.cost_estimated)
        saves = self.engine.accountant.cache_hit(ref, usage, entry.cost_usd, hit.tier).saved_usd

        def settle(use: bool) -> None:
            if not decision.done():
                decision.set_result(use)

        def decide(use: bool) -> None:  # from any thread, once; later calls are ignored
            loop.call_soon_threadsafe(settle, use)
        return SimilarFound(turn.conversation_id, hit.similar_prompt or "", entry.text, ref, entry.created_at,
                            hit.similarity or 0.0, saves, decide)

    async def _replay(self, hit: Hit, missed: list[Tier], turn: Turn,
                      rec: TurnRecorder | None) -> AsyncGenerator[Event, None]:
        """The cached answer as a stream; `rec` None shows it without recording anything (nothing can be written)."""
        engine, entry = self.engine, hit.entry
        ref = ModelRef(entry.provider, entry.model)
        reason = f"{ref} - {_replayed(hit)}"
        yield Started(turn.conversation_id, ref, reason, cached=True)
        ttft = (time.perf_counter() - self.t0) * 1000
        yield TextDelta(entry.text)
        usage = Usage(entry.input_tokens, entry.output_tokens, entry.cost_estimated)
        # Savings are counted per source: the exact cache as "cache", the others under their own names.
        money = engine.accountant.cache_hit(ref, usage, entry.cost_usd, "cache" if hit.tier == "exact" else hit.tier)
        total = (time.perf_counter() - self.t0) * 1000
        call = _with_similar(answer_call(self.request_id, turn.conversation_id, ref, usage, money, True, ttft, total, reason,
                                         entry.key), hit)
        mid: int | None = None
        try:
            if rec is not None:
                mid = await rec.complete(call, entry.text, keep=lambda: engine.tiers.adopt(missed, hit),
                                         looked_up=False)
        except StorageError as exc:
            yield Notice(f"The answer could not be saved in history: {exc.message}", "warning")
        yield Finished(Answer(entry.text, ref.provider, ref.model, True, usage, 0.0, money.saved_usd, ttft, total,
                              turn.conversation_id, mid, reason, money.estimated, cache=hit.tier,
                              similarity=hit.similarity, similar_prompt=hit.similar_prompt))


def _replayed(hit: Hit) -> str:
    """How a replayed answer is described in the route line and the history."""
    if hit.similarity is not None:
        when = time.strftime("%Y-%m-%d", time.localtime(hit.entry.created_at))
        return f"similar question from {when} ({hit.similarity:.0%} alike)"
    return REPLAYED.get(hit.tier, "cached answer")



def _with_similar(call: CallRecord, similar: Hit | None) -> CallRecord:
    """An answer's row says which similar question's answer it reused (or, for a fresh answer, was declined)."""
    if similar is None or similar.similarity is None:
        return call
    return replace(call, similar_entry=similar.match_id, similarity=similar.similarity)
