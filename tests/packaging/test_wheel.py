"""The wheel carries the assets (price table, icons, launcher template, styles), and an install finds them."""

from __future__ import annotations

import email.parser
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import assistant
from assistant.core.resources import asset_path
from tests.conftest import ROOT

pytestmark = pytest.mark.slow  # subprocesses, real models or builds: outside the quick loop

# Where each packaged asset lives in the checkout.
SOURCES = {
    "prices.json": ROOT / "assets" / "prices.json",
    "icon.svg": ROOT / "assets" / "icon.svg",
    "icon.png": ROOT / "assets" / "icon.png",
    "assistant.desktop.in": ROOT / "packaging" / "assistant.desktop.in",
}
ASSETS = tuple(SOURCES)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    out = tmp_path_factory.mktemp("wheel")
    # --no-build-isolation and --no-index: build with this venv's hatchling, never fetch anything.
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "--no-index", "-q", "-w", str(out)],
        capture_output=True, text=True, timeout=240,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (built,) = out.glob("assistant-*.whl")
    yield built


def test_wheel_contains_assets_styles_and_one_version(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        for name, source in SOURCES.items():
            assert zf.read(f"assistant/assets/{name}") == source.read_bytes()
        for style in sorted((ROOT / "assistant").rglob("*.tcss")):
            assert style.relative_to(ROOT).as_posix() in names
        dist_info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
        metadata = email.parser.Parser().parsestr(zf.read(f"{dist_info}/METADATA").decode())
        entry_points = zf.read(f"{dist_info}/entry_points.txt").decode()
    assert metadata["Version"] == assistant.__version__  # hatch reads assistant/__init__.py: one source of truth
    assert "assistant = assistant.main:main" in entry_points
    assert not any(n.startswith(("tests/", "packaging/")) for n in names)


def test_installed_wheel_finds_its_assets_and_prints_its_version(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)  # a wheel's purelib layout is what pip puts in site-packages
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    probe = f"from assistant.core.resources import asset_path; print('\\n'.join(str(asset_path(n)) for n in {ASSETS!r}))"
    found = subprocess.run([sys.executable, "-c", probe], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=60)
    assert found.returncode == 0, found.stderr
    paths = [Path(line) for line in found.stdout.splitlines()]
    assert paths == [site / "assistant" / "assets" / name for name in ASSETS]
    assert all(p.is_file() for p in paths)

    version = subprocess.run([sys.executable, "-m", "assistant", "--version"], cwd=elsewhere, env=env,
                             capture_output=True, text=True, timeout=60)
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == f"assistant {assistant.__version__}"


def test_checkout_finds_assets_at_the_top_level() -> None:
    for name in ("prices.json", "icon.svg", "icon.png"):
        assert asset_path(name) == ROOT / "assets" / name
