"""The query service beside the engine: history, search, export, savings, latency and cache figures.

Every method is synchronous and runs its SQL on the database thread, so the CLI calls it directly and the TUI
calls it from thread workers; nothing here runs on an event loop.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from assistant.core.conversation import Conversation
from assistant.core.errors import UsageError
from assistant.core.records import CallRecord, SalvageReport, SearchHit, StoredMessage, StoredToolCall
from assistant.core.reports import CacheStats, LatencyRow, PruneResult, RequestPoint, SavingsReport, SimilarStats
from assistant.core.types import Answer, ModelRef, Usage
from assistant.engine.accounting import Accountant, estimate_tokens
from assistant.storage.cache import ResponseCache
from assistant.storage.calls import CallLog
from assistant.storage.db import Database
from assistant.storage.history import History
from assistant.storage.integrity import kept_aside, mark_recovered, problems
from assistant.storage.salvage import salvage
from assistant.storage.stats import Stats
from assistant.storage.team_ledger import TeamLedger

if TYPE_CHECKING:
    from assistant.engine.semantic_tier import SemanticTier

T = TypeVar("T")
WEEK = 7 * 86400.0


class Queries:
    def __init__(self, db: Database, history: History, calls: CallLog, stats: Stats, cache: ResponseCache,
                 accountant: Accountant, ledger: TeamLedger, semantic: SemanticTier | None = None) -> None:
        self.db = db
        self.history = history
        self.calls = calls
        self.stats = stats
        self.cache = cache
        self.accountant = accountant
        self.ledger = ledger
        self.semantic = semantic  # the similar-question tier, when [cache] semantic is not "off"

    def _run(self, fn: Callable[..., T], *args: object) -> T:
        return self.db.run(fn, *args)

    # conversations ------------------------------------------------------------------------------
    def conversations(self, limit: int = 200) -> list[Conversation]:
        return self._run(self.history.list_conversations, limit)

    def search(self, words: str, limit: int = 100) -> list[SearchHit]:
        return self._run(self.history.search, words, limit)

    def conversation(self, ref: str) -> Conversation:
        """A conversation by id or unambiguous id prefix."""
        return self._run(self.history.get_conversation, ref)

    def messages(self, conversation_id: str) -> list[StoredMessage]:
        return self._run(self.history.messages, conversation_id)

    def switch_branch(self, conversation_id: str, message_id: int) -> list[StoredMessage]:
        """Show the branch through `message_id` (an alternative of an edited question or a regenerated answer);
        returns the branch now on screen."""
        def work() -> list[StoredMessage]:
            self.history.switch_branch(conversation_id, message_id)
            return self.history.messages(conversation_id)
        return self._run(work)

    def answers(self, conversation_id: str) -> dict[int, Answer]:
        """The figures of each stored answer (model, cached, first token, tokens/s, cost), by message id, as the
        chat showed them when they arrived."""
        def work() -> dict[int, Answer]:
            return {c.message_id: answer_of(c) for c in self.calls.answers_of(conversation_id) if c.message_id}
        return self._run(work)

    def recent_prompts(self, limit: int = 100) -> list[str]:
        """The user's latest questions, newest first, each once: what Up recalls in an empty prompt."""
        return self._run(self.history.recent_prompts, limit)

    def save_model(self, conversation_id: str, model: str | None) -> None:
        """The model this conversation asks (None: the router chooses), used again when it is reopened."""
        self._run(lambda: self.history.update_conversation(conversation_id, model=model))

    def tool_calls(self, conversation_id: str) -> list[StoredToolCall]:
        return self._run(self.history.tool_calls, conversation_id)

    def latest_conversation_id(self) -> str | None:
        """The conversation `--continue` resumes: the latest one that got an answer."""
        return self._run(self.history.latest_conversation_id, True)

    def rename(self, conversation_id: str, title: str) -> None:
        self._run(self.history.rename, conversation_id, title)

    def delete(self, conversation_id: str) -> str:
        """Delete a conversation; returns its full id."""
        def work() -> str:
            cid = self.history.resolve_id(conversation_id)
            self.history.delete_conversation(cid)
            return cid
        return self._run(work)

    def save_settings(self, conversation_id: str, system: str | None, temperature: float | None) -> None:
        self._run(lambda: self.history.update_conversation(conversation_id, system=system, temperature=temperature))

    def export(self, conversation_id: str, fmt: str) -> str:
        return self._run(self.history.export, conversation_id, fmt)

    # figures --------------------------------------------------------------------------------------
    def savings(self, since: float | None = None, *, with_rows: bool = False) -> SavingsReport:
        return self._run(lambda: self.stats.savings(since, with_rows=with_rows))

    def savings_by_day(self, days: int) -> list[tuple[str, float]]:
        return self._run(self.stats.savings_by_day, days)

    def latency(self, since: float | None = None) -> list[LatencyRow]:
        return self._run(self.stats.latency, since)

    def recent_requests(self, limit: int = 60) -> list[RequestPoint]:
        return self._run(self.stats.recent_requests, limit)

    @property
    def local_providers(self) -> tuple[str, ...]:
        return self.stats.local

    def baseline(self) -> str | None:
        ref = self.accountant.baseline
        return str(ref) if ref else None

    # the cache ----------------------------------------------------------------------------------
    def cache_stats(self, now: float | None = None) -> CacheStats:
        now = time.time() if now is None else now

        def work() -> CacheStats:
            entries, size = self.cache.size()
            limits = self.cache.limits
            return CacheStats(entries, size, self.cache.database_bytes(), limits.ttl_seconds / 86400,
                              limits.max_entries, limits.max_bytes, limits.hot_entries,
                              self.calls.hit_window(0.0), self.calls.hit_window(now - WEEK))
        return self._run(work)

    def team_totals(self) -> dict[str, int]:
        """The team cache's counts summed over every process that has closed (lookups, rejected entries, ...)."""
        return self._run(self.ledger.totals)

    def set_private(self, conversation_id: str, private: bool) -> None:
        """Keep a conversation out of the team cache (or let it back in)."""
        self._run(lambda: self.history.update_conversation(conversation_id, private=int(private)))

    def cache_clear(self, *, provider: str | None = None, models: tuple[str, ...] = (),
                    older_than: float | None = None) -> int:
        """Both tiers: the answers matching the filters, and the similar-question entries pointing at them."""
        def work() -> int:
            removed = self.cache.clear(provider=provider, models=models, older_than=older_than)
            if self.semantic is not None and not (provider or models or older_than is not None):
                self.semantic.clear()
            self._drop_orphans()
            return removed
        return self._run(work)

    def _drop_orphans(self) -> None:
        from assistant.storage.semantic_store import SemanticStore

        SemanticStore(self.db.conn).delete_orphans()  # also when the tier is off now: nothing may point nowhere

    def cache_prune(self) -> PruneResult:
        """Apply the TTL and size limits, drop entries of older key schemes, then compact the file."""
        def work() -> PruneResult:
            result = self.cache.prune(old_schemes=True)
            self._drop_orphans()
            self.cache.compact()
            return result
        return self._run(work)

    def similar_stats(self, now: float | None = None) -> SimilarStats:
        """What the similar-question tier holds and did: entries, hits, near misses, declined, which model embeds."""
        from assistant.storage.semantic_store import SemanticStore

        now = time.time() if now is None else now
        tier = self.semantic

        def work() -> SimilarStats:
            store = SemanticStore(self.db.conn)
            counters = store.counters()
            hits, saved = self.calls.similar_hits(0.0)
            week, _ = self.calls.similar_hits(now - WEEK)
            return SimilarStats(
                mode="off" if tier is None else tier.settings.semantic, entries=store.count(), hits=hits,
                hits_7_days=week, saved_usd=saved, near_misses=counters.get("near_miss", 0),
                declined=self.calls.similar_declined(), forgotten=counters.get("forgotten", 0),
                embedded=store.counts_by_embedder(),
                lookups={k.partition(":")[2]: n for k, n in counters.items() if k.startswith("lookups:")},
                embedder=tier.embedder if tier else None,
                problem=tier.problem if tier else None)
        return self._run(work)

    def forget_similar(self, message_id: int | None = None) -> tuple[int, float, str]:
        """Mark an answer reused from a similar question as wrong (the given answer's id, or the latest such
        answer): that pair never matches again. Returns (answer id, similarity, the earlier question)."""
        from assistant.core.errors import UsageError
        from assistant.engine.semantic_index import forget_values
        from assistant.engine.session import context_of
        from assistant.storage.semantic_store import SemanticStore

        def work() -> tuple[int, float, str]:
            found = self.history.similar_answer(message_id)
            if found is None:
                raise UsageError(f"Answer {message_id} was not reused from a similar question; `assistant history show "
                                 "ID` lists a conversation's answers." if message_id is not None else
                                 "No answer has been reused from a similar question yet.")
            mid, cid, entry, similarity = found
            conv = self.history.get_conversation(cid)
            question = self.history.message(cid, mid).parent_id  # the answer follows the question it answered
            before = context_of(self.history.ancestors(cid, question))
            asked = ([("system", conv.system)] if conv.system else []) + [(m.role, m.content) for m in before]
            store = SemanticStore(self.db.conn)
            row = store.get(entry, "")
            prompt = row.question.prompt if row is not None else ""
            if self.semantic is not None:
                self.semantic.forget(entry, asked, similarity)
            else:
                forget_values(store, entry, asked, similarity)
            return mid, similarity, prompt
        return self._run(work)

    # damage -----------------------------------------------------------------------------------------
    def recover(self, source: str) -> SalvageReport:
        """Copy what can still be read from a damaged copy (or any older database of ours) into this one."""
        path = Path(source).expanduser()
        if not path.is_file():
            raise UsageError(f"There is no file {source}; `assistant db check` lists the damaged copies kept aside.")
        if self.db.path is not None and path.resolve() == self.db.path.resolve():
            raise UsageError("That is the database in use; name a damaged copy kept beside it.")

        def work() -> SalvageReport:
            report = salvage(path, self.db.conn)
            kept = kept_aside(self.db.path) if self.db.path is not None else []
            if report.readable and path.resolve() in {p.resolve() for p in kept}:
                report = replace(report, renamed_to=str(mark_recovered(path)))
            return report
        return self._run(work)

    def check(self) -> tuple[list[str], list[str]]:
        """(problems found by a full integrity check, damaged copies still kept aside)."""
        def work() -> list[str]:
            return problems(self.db.conn, "integrity_check")
        kept = [str(p) for p in kept_aside(self.db.path)] if self.db.path is not None else []
        return self._run(work), kept

    # crash recovery -------------------------------------------------------------------------------
    def settle_crashed(self, accountant: Accountant) -> int:
        """Attempts of processes killed mid-answer are settled from what arrived: their cost still counts."""
        def work() -> int:
            rows = self.calls.unsettled()
            for row in rows:
                ref = ModelRef(row.provider, row.model)
                usage = Usage(row.input_tokens, estimate_tokens(row.answer_chars), estimated=True)
                money = accountant.fresh(ref, usage)
                self.calls.settle(row.row_id, CallRecord(
                    "", None, None, row.provider, row.model, "interrupted", usage.input_tokens, usage.output_tokens,
                    money.cost_usd, True, 0.0, None, money.baseline, route_reason="process ended mid-answer"))
            return len(rows)
        return self._run(work)


def answer_of(call: CallRecord) -> Answer:
    """A stored answer's figures in the shape the chat shows (its text is the message's, not repeated here)."""
    usage = Usage(call.input_tokens, call.output_tokens, call.cost_estimated)
    tier = ("exact" if call.saved_source in (None, "cache") else call.saved_source) if call.cached else None
    return Answer("", call.provider, call.model, call.cached, usage, call.cost_usd, call.saved_usd, call.ttft_ms,
                  call.total_ms, call.conversation_id or "", call.message_id, call.route_reason, call.cost_estimated,
                  answer_ms=call.total_ms, cache=tier)
