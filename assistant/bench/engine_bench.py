"""Engine overhead: time to first token and per-token cost of Engine.chat over reading the same stream with bare httpx."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import statistics
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.bench.loopback import LoopbackOllama

if TYPE_CHECKING:
    import httpx

    from assistant.engine.engine import Engine


@dataclasses.dataclass(frozen=True)
class StreamTiming:
    """Seconds from the request to the first and to the last token, and how many tokens arrived."""

    first: float
    last: float
    tokens: int


async def _raw(client: httpx.AsyncClient, url: str, model: str) -> StreamTiming:
    """The floor: one POST, lines parsed and the text picked out, nothing else."""
    body = {"model": model, "messages": [{"role": "user", "content": uuid.uuid4().hex}], "stream": True}
    t0 = time.perf_counter()
    first = last = 0.0
    count = 0
    async with client.stream("POST", f"{url}/api/chat", json=body) as response:
        async for line in response.aiter_lines():
            if not line:
                continue
            text = json.loads(line)["message"]["content"]
            if text:
                last = time.perf_counter() - t0
                if not count:
                    first = last
                count += 1
    return StreamTiming(first, last, count)


async def _through_engine(engine: Engine, model: str) -> StreamTiming:
    from assistant.core.events import Failed, TextDelta
    from assistant.core.types import ChatRequest, ModelRef

    request = ChatRequest(uuid.uuid4().hex, ModelRef("ollama", model))
    t0 = time.perf_counter()
    first = last = 0.0
    count = 0
    async for event in engine.chat(request):
        if isinstance(event, TextDelta):
            last = time.perf_counter() - t0
            if not count:
                first = last
            count += 1
        elif isinstance(event, Failed):
            raise RuntimeError(f"engine bench request failed: {event.error.message}")
    return StreamTiming(first, last, count)


def _engine(workdir: Path, url: str) -> Engine:
    from assistant.compose import build_engine, make_keys, setup_at

    setup = setup_at(workdir / "engine-bench", {"ollama": {"host": url}})
    return build_engine(setup, keys=make_keys(setup.registry, {}))


async def _measure(workdir: Path, tokens: int, rounds: int) -> dict[str, float]:
    import httpx

    with LoopbackOllama(tokens=tokens) as server:
        engine = _engine(workdir, server.url)
        async with httpx.AsyncClient(timeout=30) as client:
            try:
                # Warm-up: imports, connection pools, SQLite pages; not measured.
                await _raw(client, server.url, server.model)
                await _through_engine(engine, server.model)
                raw: list[StreamTiming] = []
                via: list[StreamTiming] = []
                for _ in range(rounds):  # interleaved so drift in machine load hits both sides alike
                    raw.append(await _raw(client, server.url, server.model))
                    via.append(await _through_engine(engine, server.model))
            finally:
                await engine.aclose()
    if any(t.tokens != tokens for t in raw + via):
        raise RuntimeError(f"expected {tokens} tokens per stream, got {[t.tokens for t in raw + via]}")

    def median(values: list[float]) -> float:
        return statistics.median(values)

    raw_ttft, via_ttft = median([t.first for t in raw]), median([t.first for t in via])
    def span(t: StreamTiming) -> float:
        return (t.last - t.first) / (t.tokens - 1)

    raw_tok, via_tok = median([span(t) for t in raw]), median([span(t) for t in via])
    return {
        "engine_ttft_raw_ms": raw_ttft * 1e3,
        "engine_ttft_ms": via_ttft * 1e3,
        "engine_ttft_overhead_ms": (via_ttft - raw_ttft) * 1e3,
        "engine_token_raw_us": raw_tok * 1e6,
        "engine_token_us": via_tok * 1e6,
        "engine_token_overhead_us": (via_tok - raw_tok) * 1e6,
        "engine_ttft_ratio": via_ttft / raw_ttft,
        "engine_token_ratio": via_tok / raw_tok,
        "engine_stream_tokens": float(tokens),
        "engine_rounds": float(rounds),
    }


def run_engine_bench(workdir: Path, tokens: int = 2000, rounds: int = 7) -> dict[str, float]:
    """Medians over `rounds` interleaved streams of `tokens` tokens from a loopback Ollama."""
    return asyncio.run(_measure(workdir, tokens, rounds))
