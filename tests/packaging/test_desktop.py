"""The desktop launcher: `assistant desktop install|uninstall` writes and removes files under XDG_DATA_HOME only."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assistant import desktop
from assistant.core.resources import asset_path
from assistant.main import main

pytestmark = pytest.mark.slow  # subprocesses, real models or builds: outside the quick loop


@pytest.fixture
def xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "xdg-data"
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    monkeypatch.setenv("HOME", str(tmp_path / "user-home"))
    return data


@pytest.fixture
def command(tmp_path: Path) -> Path:
    path = tmp_path / "venv" / "bin" / "assistant"
    path.parent.mkdir(parents=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def read_entry(path: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # desktop keys are case-sensitive
    parser.read(path, encoding="utf-8")
    return dict(parser["Desktop Entry"])


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def test_install_writes_entry_and_icons_under_xdg_data_home_only(xdg: Path, command: Path, tmp_path: Path) -> None:
    before = files_under(tmp_path)
    launcher = desktop.install(command=command)

    assert launcher.desktop_file == xdg / "applications" / "assistant-ai.desktop"
    assert launcher.svg_icon == xdg / "icons/hicolor/scalable/apps/assistant-ai.svg"
    assert launcher.png_icon == xdg / "icons/hicolor/256x256/apps/assistant-ai.png"
    assert launcher.svg_icon.read_bytes() == asset_path("icon.svg").read_bytes()
    assert launcher.png_icon.read_bytes() == asset_path("icon.png").read_bytes()
    new = files_under(tmp_path) - before
    assert set(launcher.files) <= new
    assert all(p.is_relative_to(xdg) for p in new), new  # nothing in HOME or anywhere else

    entry = read_entry(launcher.desktop_file)
    assert entry["Type"] == "Application"
    assert entry["Terminal"] == "true"  # a TUI: the desktop opens it in the user's terminal
    assert entry["Exec"] == str(command) and Path(entry["Exec"]).is_absolute()
    assert entry["TryExec"] == str(command)
    assert entry["Icon"] == "assistant-ai"
    assert entry["Name"] == "Assistant"
    assert entry["Categories"].endswith(";")
    assert "@" not in launcher.desktop_file.read_text(encoding="utf-8")  # every placeholder filled


def test_install_twice_updates_in_place_and_uninstall_removes_everything(xdg: Path, command: Path) -> None:
    desktop.install(command=command)
    other = command.with_name("assistant2")
    launcher = desktop.install(command=other)
    assert read_entry(launcher.desktop_file)["Exec"] == str(other)
    assert not list(xdg.rglob("*.partial"))

    assert set(desktop.uninstall()) == set(launcher.files)
    assert not any(p.exists() for p in launcher.files)
    assert desktop.uninstall() == ()


def test_exec_with_reserved_characters_is_quoted_per_the_spec(xdg: Path, tmp_path: Path) -> None:
    odd = tmp_path / "my apps" / "50%$x" / "assistant"
    launcher = desktop.install(command=odd)
    line = next(x for x in launcher.desktop_file.read_text(encoding="utf-8").splitlines() if x.startswith("Exec="))
    # In quotes: '%' doubled (field codes), '$' backslash-escaped, and that backslash doubled as a string value.
    assert line == 'Exec="' + str(odd.parent.parent.parent) + '/my apps/50%%\\\\$x/assistant"'


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-utils is not installed")
@pytest.mark.parametrize("name", ["assistant", "with space/assistant"])
def test_desktop_file_validate_accepts_the_entry(xdg: Path, tmp_path: Path, name: str) -> None:
    launcher = desktop.install(command=tmp_path / name)
    result = subprocess.run(["desktop-file-validate", str(launcher.desktop_file)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "error" not in result.stdout


def test_relative_xdg_data_home_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert desktop.data_home({"XDG_DATA_HOME": "relative/share"}) == tmp_path / ".local" / "share"
    assert desktop.data_home({}) == tmp_path / ".local" / "share"
    assert desktop.data_home({"XDG_DATA_HOME": str(tmp_path / "d")}) == tmp_path / "d"


def test_command_path_is_the_frozen_executable_or_the_script_beside_python(
    command: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "executable", str(command.with_name("python")))
    assert desktop.command_path() == command
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", "/opt/assistant/assistant")
    assert desktop.command_path() == Path("/opt/assistant/assistant")


def test_cli_install_and_uninstall(xdg: Path, command: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "executable", str(command.with_name("python")))
    assert main(["desktop", "install"]) == 0
    out = capsys.readouterr().out
    assert f"wrote {xdg / 'applications' / 'assistant-ai.desktop'}" in out
    assert read_entry(xdg / "applications" / "assistant-ai.desktop")["Exec"] == str(command)

    assert main(["desktop", "uninstall"]) == 0
    assert "removed" in capsys.readouterr().out
    assert not (xdg / "applications" / "assistant-ai.desktop").exists()
    assert main(["desktop", "uninstall"]) == 0
    assert "nothing to remove" in capsys.readouterr().out


def test_cli_without_an_installed_command_says_how_to_fix_it(xdg: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "nowhere" / "python"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert main(["desktop", "install"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("assistant: ") and "pipx install" in err and "\n" not in err
    assert not xdg.exists()


def test_cli_rejects_an_unknown_action(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["desktop", "reinstall"]) == 2
    assert "invalid choice" in capsys.readouterr().err
