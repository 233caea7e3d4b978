"""The core never imports the UI, and `assistant ask`'s modules import no heavy library at start."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pytest

import assistant

CORE = ("assistant.engine", "assistant.providers", "assistant.storage")


def _modules(prefix: str) -> list[str]:
    package = __import__(prefix, fromlist=["_"])
    return [prefix] + [f"{prefix}.{m.name}" for m in pkgutil.iter_modules(package.__path__)]


@pytest.mark.parametrize("module", [m for p in CORE for m in _modules(p)])
def test_core_module_never_imports_textual(module: str) -> None:
    code = f"import sys, {module}; bad = [m for m in sys.modules if m == 'textual' or m.startswith('textual.')]; print(bad)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]", f"{module} imported {out}"


def test_cli_entry_imports_nothing_heavy() -> None:
    code = ("import sys, assistant.cli, assistant.cli.ask, assistant.engine.engine; "
            "print(sorted(m for m in ('textual','httpx','ollama','llama_cpp','keyring','sqlite_utils','redis') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


def test_version_single_source() -> None:
    out = subprocess.run([sys.executable, "-m", "assistant", "--version"], capture_output=True, text=True, check=True).stdout
    assert out.strip() == f"assistant {assistant.__version__}"
