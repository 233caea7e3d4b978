"""Everything one request writes, queued in order on the database thread: the stream never waits for SQLite."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from assistant.core.errors import StorageError
from assistant.core.records import CallRecord
from assistant.core.tools import ToolResult
from assistant.core.types import ModelRef, Usage
from assistant.engine.accounting import Money
from assistant.storage.calls import CallLog
from assistant.storage.db import Database
from assistant.storage.history import History
from assistant.storage.tool_log import ToolLog

if TYPE_CHECKING:
    from concurrent.futures import Future

# Streamed text is written in batches at most this far apart: a crash (kill -9, power loss) loses at most the
# text of the last interval, and a token costs a list append instead of an INSERT.
CHUNK_FLUSH_SECONDS = 0.1


@dataclass
class _Ids:
    """Row ids known only once the database thread has run the insert; read by writes queued after it."""

    call: int | None = None
    message: int | None = None


class TurnRecorder:
    """One per request. Writes are handed to the database thread without waiting; `settle` waits for them all."""

    def __init__(self, db: Database, history: History, calls: CallLog, conversation_id: str, request_id: str,
                 question_id: int | None = None) -> None:
        self.db = db
        self.history = history
        self.calls = calls
        self.conversation_id = conversation_id
        self.request_id = request_id
        self.question_id = question_id  # the answer's parent: a regenerated answer is a sibling of the earlier one
        self._ids = _Ids()
        self._buffer: list[str] = []
        self._seq = 0
        self._flushed_at = 0.0
        # The first write of this request handed off without waiting that failed (a full disk): said at the end.
        self.failure: StorageError | None = None

    def _submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        future = self.db.submit(fn, *args)
        future.add_done_callback(self._keep_failure)
        return future

    def _keep_failure(self, future: Future[Any]) -> None:
        exc = future.exception()
        if isinstance(exc, StorageError) and self.failure is None:
            self.failure = exc

    # attempts ---------------------------------------------------------------------------------
    def attempt_started(self, ref: ModelRef, reason: str, input_tokens: int) -> None:
        """A pending row at once, so a process killed mid-answer still leaves what it spent."""
        ids = self._ids = _Ids()
        self._buffer, self._seq = [], 0
        record = CallRecord(self.request_id, self.conversation_id, None, ref.provider, ref.model, "pending",
                            input_tokens=input_tokens, route_reason=reason)

        def insert() -> None:
            ids.call = self.calls.record(record)
        self._submit(insert)

    def _answer_row(self, ids: _Ids, ref: ModelRef) -> int:
        """On the database thread: the answer's row (once), linked to its attempt."""
        if ids.message is None:
            ids.message = self._start_answer(ref.provider, ref.model)
            if ids.call is not None:
                self.calls.link_message(ids.call, ids.message)
        return ids.message

    async def first_text(self, ref: ModelRef, text: str) -> None:
        """The answer's row and its first text are written before that text is shown: a crash after the first
        token never loses the answer, only (at most) the last batch of it (worth the ~0.2 ms it adds). A write
        that fails (a full disk) is kept like a failed batch: the answer is still shown, and the end says so once."""
        ids, seq = self._ids, self._seq

        def insert() -> None:
            self.history.append_chunk(self._answer_row(ids, ref), seq, text)
        import asyncio  # here: a cached `ask` records its replay with this module and no event loop

        try:
            await asyncio.wrap_future(self._submit(insert))
        except StorageError:
            pass  # kept in `failure` by the callback, which ran first
        self._seq = seq + 1
        self._flushed_at = time.perf_counter()

    async def ensure_answer(self, ref: ModelRef) -> None:
        """The answer's row before its first tool call runs (the model may ask for tools before saying anything)."""
        ids = self._ids
        await self.db.call(lambda: self._answer_row(ids, ref))

    def tool_result(self, round_no: int, seq: int, result: ToolResult) -> None:
        """One finished (or refused) call, kept with the answer as soon as it is known."""
        self.flush()  # the text before the call is saved first
        ids = self._ids

        def insert() -> None:
            ToolLog(self.history.conn).record(self.request_id, self.conversation_id, ids.message, round_no, seq, result)
        self._submit(insert)

    def chunk(self, text: str) -> None:
        self._buffer.append(text)
        if time.perf_counter() - self._flushed_at >= CHUNK_FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        if not self._buffer:
            return
        ids, texts, first = self._ids, self._buffer, self._seq
        self._buffer = []
        self._seq += len(texts)
        self._flushed_at = time.perf_counter()

        def append() -> None:
            if ids.message is not None:
                self.history.append_chunks(ids.message, first, texts)
        self._submit(append)

    def attempt_ended(self, call: CallRecord, *, status: str | None = None, text: str | None = None) -> None:
        """Settle the attempt's row; `status` finishes its answer row too (interrupted text is kept)."""
        self.flush()
        ids = self._ids

        def settle() -> None:
            if status is not None and ids.message is not None:
                self.history.finish_answer(ids.message, status, text)
            if ids.call is not None:
                self.calls.settle(ids.call, _with_message(call, ids.message))
            else:
                self.calls.record(_with_message(call, ids.message))
        self._submit(settle)

    def record(self, call: CallRecord) -> None:
        """A row that is complete when written (a refusal, a slow probe)."""
        self._submit(self.calls.record, call)

    # the answer ---------------------------------------------------------------------------------
    def _start_answer(self, provider: str, model: str) -> int:
        if self.question_id is None:
            return self.history.start_answer(self.conversation_id, provider, model)
        return self.history.start_answer(self.conversation_id, provider, model, parent_id=self.question_id)

    async def complete(self, call: CallRecord, text: str, *, keep: Callable[[], None] | None,
                       looked_up: bool) -> int:
        """Finish the answer, settle its row, then `keep` it (the cache tiers); returns the answer's message id."""
        self.flush()
        ids = self._ids

        def finish() -> int:
            if ids.message is None:  # an empty answer (or a replay) still gets a row, so the turn is complete
                ids.message = self._start_answer(call.provider, call.model)
            self.history.finish_answer(ids.message, "complete", text)
            if ids.call is not None:
                self.calls.settle(ids.call, _with_message(call, ids.message))
            else:
                self.calls.record(_with_message(call, ids.message))
            if keep is not None:
                keep()
            if looked_up:
                self.calls.note_miss(self.request_id)
            self.history.touch(self.conversation_id)
            return ids.message
        return await self.db.call(finish)


def _with_message(call: CallRecord, message_id: int | None) -> CallRecord:
    return replace(call, message_id=message_id) if message_id is not None else call


def record_replay(history: History, calls: CallLog, conversation_id: str, call: CallRecord, text: str) -> int:
    """The rows of an answer replayed from a cache: complete when written (nothing streams in between)."""
    mid = history.start_answer(conversation_id, call.provider, call.model)
    history.finish_answer(mid, "complete", text)
    calls.record(replace(call, message_id=mid))
    history.touch(conversation_id)
    return mid


def answer_call(request_id: str, conversation_id: str, ref: ModelRef, usage: Usage, money: Money, cached: bool,
                ttft: float | None, total: float, reason: str, key: str) -> CallRecord:
    """The calls row of an answered request."""
    return CallRecord(request_id, conversation_id, None, ref.provider, ref.model, "ok", usage.input_tokens,
                      usage.output_tokens, money.cost_usd, money.estimated, money.saved_usd, money.saved_source,
                      money.baseline, cached, ttft, total, None, reason, key)
