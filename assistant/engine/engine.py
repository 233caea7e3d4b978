"""The engine: the one façade the CLI, the TUI, the bench and the tests use; no UI imports, no provider names."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncGenerator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from assistant.core.cache_key import KEY_SCHEME, key_for, messages_part, tools_part
from assistant.core.config import Settings
from assistant.core.errors import AssistantError, UsageError
from assistant.core.events import Event
from assistant.core.pricing import Price, PriceTable
from assistant.core.records import CallRecord, TeamStatus
from assistant.core.spec import EMBED, TOOLS, WARM, ProviderSpec
from assistant.core.tools import ToolSpec
from assistant.core.types import (
    Attachment,
    ChatMessage,
    ChatRequest,
    Estimate,
    ModelInfo,
    ModelRef,
    ProviderRequest,
    RoutePreview,
    ToolUse,
)
from assistant.engine import router
from assistant.engine.accounting import Accountant, choose_baseline
from assistant.engine.chat import ChatRun
from assistant.engine.health import Health
from assistant.engine.local_models import LocalModels
from assistant.engine.queries import Queries
from assistant.engine.recorder import TurnRecorder
from assistant.engine.retry import RetryPolicy
from assistant.engine.semantic_tier import SemanticTier
from assistant.engine.session import Turn, build_request
from assistant.engine.team_tier import TeamTier
from assistant.engine.tiers import ExactTier, Lookup, Tiers
from assistant.engine.tools_loop import SessionTools
from assistant.providers.base import Availability, Embeds, ProviderContext, Warmable
from assistant.providers.http import SharedClient
from assistant.providers.registry import Registry
from assistant.secrets import KeyStore
from assistant.storage.cache import ResponseCache
from assistant.storage.calls import CallLog
from assistant.storage.db import Database
from assistant.storage.history import History
from assistant.storage.stats import Stats
from assistant.storage.team_ledger import TeamLedger

if TYPE_CHECKING:
    import httpx

SLOW_PROBE_MS = 500.0  # a refused connection takes a few ms; a probe this slow means a hung server


class Engine:
    """Owns the database, providers and cache of one process. Async methods run on the caller's event loop and
    hand SQLite to the database thread; the `queries` service is synchronous (for CLI commands and thread workers)."""

    def __init__(self, settings: Settings, db: Database, registry: Registry, keys: KeyStore, *,
                 transport: httpx.AsyncBaseTransport | None = None, notices: Sequence[str] = ()) -> None:
        self.settings = settings
        self.db = db
        self.registry = registry
        self.keys = keys
        self.specs: dict[str, ProviderSpec] = registry.specs()
        self.history_log = History(db.conn)
        self.call_log = CallLog(db.conn)
        self.cache = ResponseCache.from_settings(db.conn, settings.cache, KEY_SCHEME)
        self.tiers = Tiers([ExactTier(self.cache, db)])
        self.team = TeamTier(settings.team, lambda: keys.get("team"), lambda: keys.get("team-password"))
        self.team_ledger = TeamLedger(db.conn)
        if settings.team.cache_url:
            self.tiers.add(self.team)
        # Similar questions: built only when on; it loads its model (and numpy) on the first lookup.
        self.semantic = None if settings.cache.semantic == "off" else \
            SemanticTier(db, self.cache, settings.cache, self._local_embedders)
        if self.semantic is not None:
            self.tiers.add(self.semantic)
        self.prices = PriceTable.load(settings.prices)
        self.http = SharedClient(settings.network, transport)
        registry.bind(self._context_for)
        self.accountant = Accountant(self.prices, choose_baseline(settings, self.prices, self.specs), self.is_local)
        self.retry = RetryPolicy(settings.network.max_retries, 0.5, settings.network.retry_max_wait)
        self.health = Health()
        self.health.replay(self.call_log.recent_outcomes(time.time() - self.health.window()))
        self.queries = Queries(db, self.history_log, self.call_log, Stats(db.conn, [n for n, s in self.specs.items() if s.local]),
                               self.cache, self.accountant, self.team_ledger,
                               self.semantic)
        self.queries.settle_crashed(self.accountant)
        self.local_models = LocalModels(self)  # pull, show, list loaded, remove; what is known of each model
        self.notices: list[str] = list(notices)  # start-up news for the user, e.g. a damaged database kept aside
        if self.team.problem:
            self.notices.append(f"The team cache is off: {self.team.problem}")
        self.tools = SessionTools(settings.mcp)  # MCP servers, started on first use
        self._closed = False

    def _local_embedders(self) -> list[tuple[str, Embeds]]:
        """Providers on this machine that can embed text (Ollama with an embedding model), in registry order."""
        out: list[tuple[str, Embeds]] = []
        for name, spec in self.specs.items():
            if spec.local and spec.can(EMBED):
                try:
                    provider = self.registry.get(name)
                except AssistantError:
                    continue
                if isinstance(provider, Embeds):
                    out.append((name, provider))
        return out

    def _context_for(self, spec: ProviderSpec) -> ProviderContext:
        return ProviderContext(spec, self.settings.provider(spec), self.settings.network, self.http,
                               lambda: self.keys.get(spec.name), lambda: self.prices.models_of(spec.name))

    # For tests and the bench only (interfaces use `queries`): each waits until queued writes have run.
    @property
    def conn(self) -> sqlite3.Connection:
        if self._closed:  # what a closed engine left behind, through a connection of its own
            return sqlite3.connect(str(self.db.path))
        self.db.run(lambda: None)
        return self.db.conn

    @property
    def history(self) -> History:
        self.db.run(lambda: None)
        return self.history_log

    @property
    def calls(self) -> CallLog:
        self.db.run(lambda: None)
        return self.call_log

    # names and prices -------------------------------------------------------------------------
    def is_local(self, provider: str) -> bool:
        spec = self.specs.get(provider)
        return spec.local if spec is not None else False

    def parse_model(self, text: str) -> ModelRef:
        """provider:model from the user; an unknown provider or a malformed name is a usage error that says why."""
        if not text or not text.strip():
            raise UsageError("No model given; use provider:model, e.g. " + self._example() + ".")
        return self.registry.parse_model(text)

    def _example(self) -> str:
        return next((f"{s.name}:{s.model_example}" for s in self.specs.values() if s.local), "provider:model")

    def price(self, ref: ModelRef) -> Price | None:
        return self.prices.price(ref, local=self.is_local(ref.provider))

    def context_window(self, ref: ModelRef) -> int | None:
        """The model's context window in tokens: the provider's own figure, else the price table's, else None."""
        try:
            window = self.registry.get(ref.provider).context_window(ref.model)
        except AssistantError:
            window = None
        if window is None and not self.is_local(ref.provider):
            price = self.prices.price(ref)
            window = price.context if price is not None and price.context else None
        return window

    async def preview(self, model: ModelRef | None = None) -> RoutePreview:
        """Which model would answer a request to `model` (None: the router chooses) now, and why; nothing is sent."""
        from assistant.engine.preview import route_preview

        return await route_preview(self, model)

    async def estimate(self, request: ChatRequest, ref: ModelRef | None = None, *, route: bool = False) -> Estimate:
        """Tokens (exact where the model's tokenizer is here), context window, cost range and warnings of `request`
        before it is sent, for the model `ref` or the router's first choice; `route` also plans the route as a
        request would (probing providers, sending nothing), as `ask --dry-run` shows it (see engine/estimate.py)."""
        from assistant.engine.estimate import estimate

        return await estimate(self, self._canonical(request), ref, route=route)

    def attach(self, path: str) -> Attachment:
        """A file to send with the next question, read and checked (call from a thread in the TUI)."""
        from assistant.engine.attachments import read_attachment

        return read_attachment(path, self.settings.attachments)

    def baseline(self) -> ModelRef | None:
        return self.accountant.baseline

    def key_specs(self) -> list[ProviderSpec]:
        """Providers that take an API key, in registry order."""
        return [s for s in self.specs.values() if s.needs_key]

    # requests ---------------------------------------------------------------------------------
    def new_request(self, prompt: str, *, model: str | ModelRef | None = None, system: str | None = None,
                    temperature: float | None = None, max_tokens: int | None = None,
                    conversation_id: str | None = None, use_cache: bool = True, local_only: bool = False,
                    regenerate: bool = False, private: bool = False, tools: ToolUse | None = None,
                    semantic: str | None = None, suggest: bool = False,
                    prior: tuple[ChatMessage, ...] = (), attachments: tuple[Attachment, ...] = ()) -> ChatRequest:
        """A request with the configured defaults applied once, the same way for the CLI and the TUI.

        Similar questions follow [cache] semantic unless `semantic` says otherwise; "suggest" needs a consumer
        that can ask the user (`suggest=True`: the chat app), and is "off" for any other.
        """
        ref = self.parse_model(model) if isinstance(model, str) else model
        mode = semantic or self.settings.cache.semantic
        if mode not in ("off", "suggest", "serve"):
            raise UsageError(f"Similar questions can be off, suggest or serve, not {mode!r}.")
        if self.semantic is None or (mode == "suggest" and not suggest):
            mode = "off"
        if prior and conversation_id is not None:
            raise UsageError("A whole conversation (--messages) starts a new one; leave out --continue/--conversation.")
        request = build_request(self.settings, prompt, model=ref, system=system, temperature=temperature,
                                max_tokens=max_tokens, conversation_id=conversation_id, use_cache=use_cache,
                                local_only=local_only, regenerate=regenerate, private=private, tools=tools,
                                attachments=attachments)
        return replace(request, semantic=mode, prior=prior)

    def _canonical(self, request: ChatRequest) -> ChatRequest:
        if request.model is not None and request.model.provider in self.specs:
            # The provider's own spelling (Ollama's name:latest), so the cache and history agree on one name.
            spec = self.specs[request.model.provider]
            request = replace(request, model=ModelRef(spec.name, spec.canonical_model(request.model.model)))
        return request

    def chat(self, request: ChatRequest) -> AsyncGenerator[Event, None]:
        """The one entry point: yields Started, TextDelta, Notice, Waiting, then Finished or Failed."""
        return ChatRun(self, self._canonical(request)).events()

    # used by ChatRun --------------------------------------------------------------------------
    def static_refs(self, request: ChatRequest) -> list[ModelRef]:
        """Models the request could go to, known without probing anything (for cache lookups and the plan)."""
        if request.model:
            return [request.model]
        if self.settings.general.default_model:
            return [self.parse_model(self.settings.general.default_model)]
        return self.settings.default_refs(self.specs, local_only=request.local_only or self.settings.general.local_only)

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
            return await self.registry.get(ref.provider).supports_tools(ref.model)
        except AssistantError:
            return False

    def _tooled(self, ref: ModelRef) -> bool:
        spec = self.specs.get(ref.provider)
        return spec is not None and spec.can(TOOLS)

    async def _candidate(self, ref: ModelRef, latency: dict[str, float], named: bool, probe: bool,
                         tools: bool = False, images: bool = False) -> router.Candidate:
        local = self.is_local(ref.provider)
        price = self.prices.price(ref, local=local)
        extra = {"input_price": price.input_per_token, "output_price": price.output_per_token,
                 "quality": price.quality} if price else {"priced": False}
        if named and not probe:
            # The user asked for it: no probe (its own stream says clearly if it cannot answer), no waiting; only
            # whether it can call tools, when they are offered (Ollama knows that per model).
            can_call = not tools or await self._can_call_tools(ref)
            reads = not images or await self.local_models.reads_images(ref)
            return router.Candidate(ref, True, "", local, tools=can_call, reads_images=reads, **extra)
        if self.health.resting(ref.provider):
            # Not even probed: a resting provider must not cost the request any time.
            return router.Candidate(ref, True, self.health.detail(ref.provider), local, healthy=False, **extra)
        try:
            provider = self.registry.get(ref.provider)
        except AssistantError as exc:
            return router.Candidate(ref, False, exc.message, local, **extra)
        started = time.perf_counter()
        status = await provider.availability()
        probe_ms = (time.perf_counter() - started) * 1000
        chosen = provider.default_model() if status.available and not named else None
        if chosen:  # the model the provider would really use (Ollama: the one pulled), in its canonical spelling
            ref = ModelRef(ref.provider, self.specs[ref.provider].canonical_model(chosen))
        if not status.available and probe_ms > SLOW_PROBE_MS:
            # Up but not answering (a hung server): rest it so the next requests do not wait for it again.
            self.health.failure(ref.provider, "probe_timeout", status.detail)
        can_call = not tools or (status.available and await provider.supports_tools(ref.model))
        reads = True
        if images and status.available:  # asked only then: for Ollama one /api/show per model, remembered
            reads = await self.local_models.reads_images(ref)
            if not reads and not named and local:  # another model here may read them (a pulled vision model)
                other = await self.local_models.image_model_of(ref.provider)
                ref, reads = (other, True) if other is not None else (ref, False)
        return router.Candidate(ref, status.available, status.detail, local, latency_ms=latency.get(str(ref)),
                                probe_ms=probe_ms, tools=can_call, reads_images=reads, **extra)

    async def candidates(self, request: ChatRequest, *, probe_named: bool = False, tools: bool = False,
                         images: bool = False) -> list[router.Candidate]:
        """Each model the request could go to, probed (a named model only when `probe_named`: a preview asks);
        with `tools`, each says whether it can call them; with `images`, whether it reads them."""
        refs = self.static_refs(request)
        latency: dict[str, float] = {}
        if self.settings.general.policy == "fastest":
            latency = await self.db.call(self.queries.stats.ttft_medians)
        named = request.model is not None
        return list(await asyncio.gather(*(self._candidate(r, latency, named, probe_named, tools, images)
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
        budget = self.settings.general.monthly_budget_usd
        spent = await self.db.call(self.call_log.month_spend) if budget > 0 else 0.0
        return router.plan(candidates, named=request.model, policy=self.settings.general.policy,
                           local_only=request.local_only or self.settings.general.local_only,
                           budget_left=None if budget <= 0 else budget - spent,
                           tokens=(prompt_tokens, request.settings.max_tokens), tools=tools, images=images)

    async def refusal(self, plan: router.Plan) -> AssistantError:
        """Why nothing can answer, saying what to change (for images, which models would read them)."""
        budget = self.settings.general.monthly_budget_usd
        spent = await self.db.call(self.call_log.month_spend) if budget > 0 else 0.0
        readers = await self.local_models.image_models() if plan.refused_for("images") else []
        return router.refusal(plan, budget, spent, [str(r) for r in readers])

    async def refuse(self, plan: router.Plan, rec: TurnRecorder) -> AssistantError:
        """The error for an empty plan, kept as a request that got no answer (no provider was contacted)."""
        error = await self.refusal(plan)
        ref = plan.skipped[0].ref if plan.skipped else ModelRef("none", "none")
        rec.record(CallRecord(rec.request_id, rec.conversation_id, None, ref.provider, ref.model, "refused",
                              error_kind=error.kind, route_reason=error.message))
        return error

    def first_token_deadline(self, started: float) -> float | None:
        budget = self.settings.network.first_token_timeout
        return started + budget if budget > 0 else None

    # models and local providers ---------------------------------------------------------------
    async def list_models(self) -> dict[str, list[ModelInfo]]:
        """Every model the app can use, grouped by provider; a broken provider shows as unavailable."""
        async def one(name: str) -> tuple[str, list[ModelInfo]]:
            try:
                return name, await self.registry.get(name).list_models()
            except AssistantError as exc:
                return name, [ModelInfo(ModelRef(name, "?"), False, exc.message)]
        return dict(await asyncio.gather(*(one(n) for n in self.registry.names)))

    async def local_status(self) -> dict[str, Availability]:
        """Whether each provider on this machine can answer now (cheap probes, for the status bar)."""
        async def one(spec: ProviderSpec) -> tuple[str, Availability]:
            try:
                return spec.name, await self.registry.get(spec.name).availability()
            except AssistantError as exc:
                return spec.name, Availability(False, exc.message)
        return dict(await asyncio.gather(*(one(s) for s in self.specs.values() if s.local)))

    async def warm_next(self) -> str | None:
        """Load the model of the first local provider that would answer now, if it loads ahead of time."""
        status = await self.local_status()
        for name, spec in self.specs.items():
            if spec.local and status.get(name, Availability(False, "")).available:
                provider = self.registry.get(name)
                if spec.can(WARM) and isinstance(provider, Warmable) and not provider.ready:
                    await provider.warm()
                    return name
                return None
        return None

    async def warm_similar(self) -> None:
        """Load the similar-question tier's model and index ahead of the first question (when it is on)."""
        if self.semantic is not None:
            await self.semantic.warm()

    def keyring_problem(self) -> str | None:
        """Why keys cannot be stored on this machine (no usable OS keyring), or None."""
        from assistant.secrets import keyring_problem

        return keyring_problem()

    def keys_present(self) -> dict[str, bool]:
        """Whether each keyed provider has a key (may ask the keyring: call from a thread)."""
        return {s.name: bool(self.keys.get(s.name)) for s in self.key_specs()}

    # the team cache -----------------------------------------------------------------------------
    def team_status(self, *, probe: bool = False) -> TeamStatus | None:
        """The team cache's state and this process's counts; None when none is set up. `probe` asks the server
        now (a few milliseconds at most; call from a thread)."""
        return self.team.status(probe=probe)

    def warm_team(self) -> None:
        """Look the team secret up and connect in the background (call from a thread: the keyring may block)."""
        self.team.warm()

    def _close_team(self) -> None:
        """Queued answers get a moment to reach the server; the counts join the all-time ones (database thread)."""
        self.team.close()
        self.team_ledger.add(self.team.unsaved_counts())

    def close(self) -> None:
        """For commands that never streamed: write back cache hits and close the database."""
        if not self._closed:
            self._closed = True
            self.db.run(self.cache.flush)
            self.db.run(self._close_team)
            self.db.close()

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self.db.call(self.cache.flush)
        await self.tools.aclose()
        await self.db.call(self._close_team)
        await self.registry.aclose()
        await self.http.aclose()
        self.db.close()
