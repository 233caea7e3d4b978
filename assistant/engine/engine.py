"""The engine: the one façade the CLI, the TUI, the bench and the tests use; no UI imports, no provider names."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncGenerator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from assistant.core.cache_key import KEY_SCHEME
from assistant.core.config import SEMANTIC_MODES, Settings
from assistant.core.errors import AssistantError, StorageError, UsageError
from assistant.core.events import Event
from assistant.core.pricing import Price, PriceTable
from assistant.core.spec import EMBED, WARM, ProviderSpec
from assistant.core.types import (
    Attachment,
    ChatMessage,
    ChatRequest,
    Estimate,
    ModelInfo,
    ModelRef,
    RoutePreview,
    ToolUse,
)
from assistant.engine.accounting import Accountant, choose_baseline
from assistant.engine.chat import ChatRun
from assistant.engine.health import Health
from assistant.engine.local_models import LocalModels
from assistant.engine.planning import Planner
from assistant.engine.queries import Queries
from assistant.engine.retry import RetryPolicy
from assistant.engine.semantic_tier import SemanticTier
from assistant.engine.session import build_request
from assistant.engine.team_tier import TeamTier
from assistant.engine.tiers import ExactTier, Tiers
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

    from assistant.core.reports import TeamStatus



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
        self.planner = Planner(self)
        self.queries = Queries(db, self.history_log, self.call_log, Stats(db.conn, [n for n, s in self.specs.items() if s.local]),
                               self.cache, self.accountant, self.team_ledger,
                               self.semantic)
        if db.read_only is None:  # settled by the next start that can write
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
        if mode not in SEMANTIC_MODES:
            raise UsageError(f"Similar questions can be {', '.join(SEMANTIC_MODES)}, not {mode!r}.")
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
            try:
                self.db.run(self.cache.flush)
                self.db.run(self._close_team)
            except StorageError:
                pass  # hit counts and LRU positions are hints; the command's own error was already reported
            finally:
                self.db.close()

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            await self.db.call(self.cache.flush)
            await self.tools.aclose()
            await self.db.call(self._close_team)
        except StorageError:
            pass  # as in close()
        try:
            await self.registry.aclose()
            await self.http.aclose()
        finally:
            self.db.close()
