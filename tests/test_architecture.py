"""The seams hold: layers import one way, a provider is one module plus one registry line, and types are checked."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from assistant.compose import Setup, build_engine, make_keys, setup_at
from assistant.core.events import Finished
from assistant.providers.registry import PROVIDERS, Registry
from tests.conftest import ROOT


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def test_layer_contracts_hold() -> None:
    """import-linter checks every module of the package against [tool.importlinter] in pyproject.toml."""
    done = _run(sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; "
                                      "sys.exit(lint_imports_command())")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


@pytest.mark.slow
def test_ruff_is_clean() -> None:
    done = _run(sys.executable, "-m", "ruff", "check", "assistant", "tests", "scripts")
    assert done.returncode == 0, done.stdout[-4000:]


@pytest.mark.slow
def test_mypy_is_clean() -> None:
    """Strict for core, storage, providers and engine (see [tool.mypy] in pyproject.toml); checked elsewhere."""
    done = _run(sys.executable, "-m", "mypy", "--cache-dir", str(ROOT / ".mypy_cache"), "assistant")
    assert done.returncode == 0, done.stdout[-4000:]


def test_no_module_outside_the_registry_names_a_provider() -> None:
    """Lists of providers live in the registry; every other module learns them from the specs."""
    names = tuple(PROVIDERS)
    allowed = {"assistant/providers/registry.py"} | {f"assistant/providers/{n}.py" for n in names}
    offenders = []
    for path in sorted((ROOT / "assistant").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel in allowed or rel.startswith("assistant/bench/"):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if any(f'"{n}"' in code or f"'{n}'" in code for n in names):
                offenders.append(f"{rel}:{number}: {line.strip()}")
    assert offenders == []


ECHO = '''
"""A provider that repeats the question: written only by this test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from assistant.core.config import setting
from assistant.core.spec import ProviderSpec
from assistant.core.types import ProviderRequest, Usage
from assistant.providers.base import Chunk, Provider, ProviderContext


@dataclass(frozen=True)
class EchoSettings:
    model: str = setting("parrot", "The echo model.")
    prefix: str = setting("you said: ", "Put before the echo.", "ECHO_PREFIX")


class EchoProvider(Provider):
    async def stream(self, request: ProviderRequest) -> AsyncIterator[Chunk]:
        yield self.context.section.prefix + request.messages[-1].content
        yield Usage(1, 1)


SPEC = ProviderSpec(name="echo", label="Echo", local=True, section=EchoSettings, model_example="parrot")


def create(context: ProviderContext) -> EchoProvider:
    return EchoProvider(context)
'''


@pytest.fixture
def echo_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "echo_provider.py").write_text(textwrap.dedent(ECHO), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    return "echo_provider"


async def test_a_new_provider_is_one_module_and_one_registry_line(echo_module: str, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    registry = Registry({**PROVIDERS, "echo": echo_module})  # the one line
    monkeypatch.setenv("ECHO_PREFIX", "echo: ")
    base = setup_at(tmp_path / "home", {"echo": {"model": "parrot"}}, registry)
    from assistant.core.config import apply_environment

    setup = Setup(base.paths, apply_environment(base.settings, os.environ, registry.specs()), registry)
    engine = build_engine(setup, keys=make_keys(registry, {}))
    try:
        assert engine.is_local("echo")
        from assistant.compose import config_defaults

        assert "[echo]" not in config_defaults()  # the real registry does not know it...
        answer = [e async for e in engine.chat(engine.new_request("hi", model="echo:parrot"))][-1]
        assert isinstance(answer, Finished) and answer.answer.text == "echo: hi"  # ...this one does, env and all
        models = await engine.list_models()
        assert [str(m.ref) for m in models["echo"]] == ["echo:parrot"]
    finally:
        await engine.aclose()


async def test_a_provider_that_cannot_load_leaves_the_others_working(tmp_path: Path) -> None:
    registry = Registry({**PROVIDERS, "broken": "no_such_module_anywhere"})
    assert "broken" in registry.problems() and "reinstall" in registry.problems()["broken"]
    assert set(registry.specs()) == set(PROVIDERS)
    engine = build_engine(setup_at(tmp_path / "home", {}, registry), keys=make_keys(registry, {}))
    try:
        models = await engine.list_models()
        assert models["broken"][0].available is False and "cannot load" in models["broken"][0].detail
        assert models["embedded"][0].available
    finally:
        await engine.aclose()
