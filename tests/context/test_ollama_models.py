"""Managing Ollama's models through the engine, against the fake (checked here against Ollama's documented pull
lines and its real /api/show and /api/ps answers): pull with summed progress, errors as one line, show, ps, unload,
remove; a pull cut short leaves no model behind."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from assistant.core.errors import ConnectionLost, ModelNotFound, ProviderError, ProviderUnavailable
from assistant.core.local_models import PullStatus
from assistant.engine.engine import Engine
from tests.conftest import CLOSED_PORT_URL, FIXTURES
from tests.fakes.ollama import LLAMA_LAYERS, FakeOllama, recorded_ps, recorded_show
from tests.helpers import real_engine, settings


def documented_pull_lines() -> list[dict[str, object]]:
    examples = json.loads((FIXTURES / "ollama" / "ollama-docs" / "api_md_json_examples.json").read_text())
    return [o for block in examples if block["section"].startswith("Pull a Model") for o in block["objects"]]


@asynccontextmanager
async def engine_on(fake: FakeOllama, home: Path) -> AsyncIterator[Engine]:
    engine = real_engine(home, settings(ollama={"host": fake.url}))
    try:
        yield engine
    finally:
        await engine.aclose()


async def pull_all(engine: Engine, name: str) -> list[PullStatus]:
    return [s async for s in engine.local_models.pull(name)]


def test_the_fake_pulls_as_the_documentation_shows(tmp_path: Path) -> None:
    documented = documented_pull_lines()
    with FakeOllama(models=[]) as fake:
        lines = [json.loads(line) for line in fake._pull_lines("llama3.2:latest")]
    steps = [d["status"] for d in documented if "digest" not in d]
    steps = steps[:steps.index("success") + 1]  # the streamed example; a lone "success" answers stream=false
    assert [line["status"] for line in lines if "digest" not in line] == steps
    layer_lines = [line for line in lines if "digest" in line]
    assert all(set(line) == set(documented[1]) for line in layer_lines)  # status, digest, total, completed
    assert all(line["status"] == f"pulling {line['digest'][7:19]}" for line in layer_lines)
    assert fake.models == ["llama3.2:latest"] and fake.pulls == [("llama3.2:latest", "complete")]


async def test_a_pull_sums_its_layers_and_registers_the_model_at_the_end(tmp_path: Path) -> None:
    with FakeOllama(models=[]) as fake:
        async with engine_on(fake, tmp_path) as engine:
            statuses = await pull_all(engine, "llama3.2")
            installed = [m.name for m in await engine.local_models.installed()]
    total = sum(layer.size for layer in LLAMA_LAYERS)
    last = statuses[-1]
    assert last.done and last.phase == "success" and (last.completed, last.total, last.layers) == (total, total, 5)
    downloading = [s for s in statuses if s.phase == "downloading"]
    assert [s.completed for s in downloading] == sorted(s.completed for s in downloading)  # never goes back
    phases = [s.phase for s in statuses if s.changed]
    assert phases[0] == "pulling manifest" and phases[-4:] == ["verifying sha256 digest", "writing manifest",
                                                               "removing any unused layers", "success"]
    assert installed == ["llama3.2:latest"]


@pytest.mark.parametrize(("fake_args", "error", "message"), [
    ({"fail_at": 6, "fail_text": "write /root/.ollama/models/blobs/sha256-6a07-partial: no space left on device"},
     ProviderError, "Ollama ran out of disk space pulling llama3.2:latest; free some space, then try again"),
    ({"cut_at": 6}, ConnectionLost, "The pull of llama3.2:latest was interrupted"),
    ({"registry": {}}, ModelNotFound, "The Ollama registry has no model 'llama3.2:latest'"),
])
async def test_a_failed_pull_is_one_line_and_leaves_no_model(tmp_path: Path, fake_args: dict[str, object],
                                                            error: type[Exception], message: str) -> None:
    with FakeOllama(models=[], **fake_args) as fake:  # type: ignore[arg-type]
        async with engine_on(fake, tmp_path) as engine:
            seen: list[PullStatus] = []
            with pytest.raises(error) as caught:
                async for status in engine.local_models.pull("llama3.2"):
                    seen.append(status)
            installed = await engine.local_models.installed()
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)
    assert installed == [] and fake.models == []
    assert [outcome for _, outcome in fake.pulls] in (["failed"], ["abandoned"])
    assert not any(s.done for s in seen)


async def test_stopping_a_pull_closes_the_connection_and_registers_nothing(tmp_path: Path) -> None:
    with FakeOllama(models=[], line_delay=0.05) as fake:
        async with engine_on(fake, tmp_path) as engine:
            pull = engine.local_models.pull("llama3.2")
            async for status in pull:
                if status.phase == "downloading":
                    break
            await pull.aclose()  # what ctrl+c and the TUI's cancel do
            installed = await engine.local_models.installed()
            for _ in range(200):  # the server notices the closed connection at its next write
                if fake.pulls:
                    break
                await asyncio.sleep(0.02)
        assert installed == [] and fake.models == []
    assert fake.pulls == [("llama3.2:latest", "abandoned")]


async def test_show_ps_unload_and_remove(tmp_path: Path) -> None:
    recorded = recorded_show()["capabilities"]  # what the real gemma3n said: completion only
    with FakeOllama(models=["gemma3n:e2b", "granite3.3:2b"], capabilities=recorded) as fake:  # type: ignore[arg-type]
        async with engine_on(fake, tmp_path) as engine:
            details = await engine.local_models.show("gemma3n:e2b")
            loaded = await engine.local_models.loaded()
            await engine.local_models.unload("granite3.3:2b")
            after = [m.name for m in await engine.local_models.loaded()]
            await engine.local_models.remove("ollama:gemma3n:e2b")  # the provider's prefix is accepted too
            with pytest.raises(ModelNotFound, match="Ollama has no model 'nosuch:latest'"):
                await engine.local_models.remove("nosuch")
            installed = [m.name for m in await engine.local_models.installed()]
    facts = details.facts
    assert (facts.family, facts.parameters, facts.quantization, facts.context, facts.images) == (
        "gemma3n", "4.5B", "Q4_K_M", 32768, False)
    assert details.license.startswith("Gemma Terms of Use") and "<start_of_turn>" in details.template
    assert details.capabilities == ("completion",)
    recorded = recorded_ps()["models"]
    assert [(m.name, m.size, m.context) for m in loaded] == [(r["model"], r["size"], r["context_length"])
                                                             for r in recorded]  # type: ignore[union-attr]
    assert all(m.until is not None for m in loaded)
    assert after == ["smollm2:1.7b"] and installed == ["granite3.3:2b"]


async def test_ollama_not_running_is_one_line(tmp_path: Path) -> None:
    engine = real_engine(tmp_path, settings(ollama={"host": CLOSED_PORT_URL}))
    try:
        for action in (lambda: pull_all(engine, "llama3.2"), engine.local_models.loaded,
                       lambda: engine.local_models.show("llama3.2")):
            with pytest.raises(ProviderUnavailable, match=r"^Ollama is not running at http://127.0.0.1:9; start it"):
                await action()
    finally:
        await engine.aclose()
