"""`assistant ask --compare`: one prompt to several models at once, answers side by side with cost and latency."""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import textwrap
import time
from contextlib import aclosing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from assistant.core.errors import AssistantError
from assistant.core.money import usd
from assistant.core.textsafe import for_terminal, to_json

if TYPE_CHECKING:
    from assistant.core.types import Answer, ChatRequest, ModelRef
    from assistant.engine.engine import Engine

MAX_PARALLEL = 4  # enough for a side-by-side view without opening a flood of connections
MIN_COLUMN = 28


@dataclass(frozen=True)
class Result:
    model: str
    answer: Answer | None  # None when the model failed
    error: AssistantError | None
    elapsed_ms: float


async def _one(engine: Engine, request: ChatRequest, ref: ModelRef, gate: asyncio.Semaphore) -> Result:
    from assistant.core.events import Failed, Finished

    req = dataclasses.replace(request, model=ref)
    async with gate:
        t0 = time.perf_counter()
        try:
            async with aclosing(engine.chat(req)) as events:
                async for event in events:
                    if isinstance(event, Finished):
                        return Result(str(ref), event.answer, None, (time.perf_counter() - t0) * 1000)
                    if isinstance(event, Failed):
                        return Result(str(ref), None, event.error, (time.perf_counter() - t0) * 1000)
        except AssistantError as exc:
            return Result(str(ref), None, exc, (time.perf_counter() - t0) * 1000)
        except Exception as exc:  # one model's bug must not take the other answers down with it
            return Result(str(ref), None, AssistantError(f"unexpected {type(exc).__name__}"), (time.perf_counter() - t0) * 1000)
    return Result(str(ref), None, AssistantError("the model ended without an answer"), 0.0)


def _footer(result: Result) -> str:
    if result.answer is None:
        return f"failed: {result.error.message if result.error else 'no answer'}"
    a = result.answer
    parts = [usd(a.cost_usd) + (" (estimated)" if a.cost_estimated and a.cost_usd else "")]
    if a.cached:
        parts.append("cached")
    if a.ttft_ms is not None:
        parts.append(f"first token {a.ttft_ms:,.0f} ms")
    parts.append(f"total {a.total_ms / 1000:.1f} s")
    return " · ".join(parts)


def _block(result: Result, width: int, clean: Any) -> list[str]:
    lines = [clean(result.model)[:width], "─" * min(width, max(len(result.model), 8))]
    body = clean(result.answer.text) if result.answer is not None else ""
    for para in body.splitlines() or ([""] if result.answer is not None else []):
        lines += textwrap.wrap(para, width) or [""]
    lines.append("")
    lines += textwrap.wrap(clean(_footer(result)), width)
    return lines


def render(results: list[Result], columns: int, clean: Any = str) -> str:
    """Side by side when every answer gets a readable column; otherwise one after another."""
    n = len(results)
    width = (columns - 3 * (n - 1)) // n
    if n > 3 or width < MIN_COLUMN:
        return "\n\n".join("\n".join(_block(r, max(columns, MIN_COLUMN), clean)) for r in results)
    blocks = [_block(r, width, clean) for r in results]
    height = max(len(b) for b in blocks)
    rows = []
    for i in range(height):
        cells = [(b[i] if i < len(b) else "").ljust(width) for b in blocks]
        rows.append(" │ ".join(cells).rstrip())
    return "\n".join(rows)


async def compare(engine: Engine, request: ChatRequest, refs: list[ModelRef], out: TextIO, err: TextIO,
                  as_json: bool) -> int:
    """Run every model concurrently (bounded); exit 0 when at least one answered."""

    unique = list(dict.fromkeys(refs))
    gate = asyncio.Semaphore(MAX_PARALLEL)
    t0 = time.perf_counter()
    results = list(await asyncio.gather(*(_one(engine, request, ref, gate) for ref in unique)))
    wall_ms = (time.perf_counter() - t0) * 1000
    answered = [r for r in results if r.answer is not None]
    if as_json:
        data = {"wall_ms": round(wall_ms, 1), "results": [
            {"ref": r.model, **r.answer.as_json()} if r.answer is not None
            else {"ref": r.model, "error": {"kind": r.error.kind if r.error else "error",
                                              "message": r.error.message if r.error else "no answer"},
                  "elapsed_ms": round(r.elapsed_ms, 1)}
            for r in results]}
        out.write(to_json(data) + "\n")
    else:
        clean = for_terminal if out.isatty() else (lambda s: s)
        out.write(render(results, shutil.get_terminal_size((120, 24)).columns, clean) + "\n")
        slowest = max((r.elapsed_ms for r in results), default=0.0)
        spent = sum(r.answer.cost_usd for r in answered if r.answer is not None)
        err.write(f"{len(answered)}/{len(results)} answered in {wall_ms / 1000:.1f} s "
                  f"(slowest {slowest / 1000:.1f} s) · spent {usd(spent)}\n")
    out.flush()
    return 0 if answered else 1
