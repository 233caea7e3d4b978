"""Install and remove the freedesktop launcher (a .desktop entry and icons) under the user's XDG data folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from assistant.core.errors import UsageError
from assistant.core.resources import asset_path

# Not plain "assistant": Qt's documentation browser already installs a launcher and icon by that name.
APP_ID = "assistant-ai"
TEMPLATE = "assistant.desktop.in"
ICON_SIZE = "256x256"  # assets/icon.png is rendered at this size (packaging/render_icon.py)


@dataclass(frozen=True)
class Launcher:
    """Where the launcher's three files go for one XDG data folder."""

    data_home: Path

    @property
    def desktop_file(self) -> Path:
        return self.data_home / "applications" / f"{APP_ID}.desktop"

    @property
    def svg_icon(self) -> Path:
        return self.data_home / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg"

    @property
    def png_icon(self) -> Path:
        return self.data_home / "icons" / "hicolor" / ICON_SIZE / "apps" / f"{APP_ID}.png"

    @property
    def files(self) -> tuple[Path, ...]:
        return (self.desktop_file, self.svg_icon, self.png_icon)


def data_home(environ: dict[str, str] | None = None) -> Path:
    """$XDG_DATA_HOME, or ~/.local/share; the spec says a relative value is invalid and must be ignored."""
    env = os.environ if environ is None else environ
    value = env.get("XDG_DATA_HOME", "")
    if value and os.path.isabs(value):
        return Path(value)
    return Path.home() / ".local" / "share"


def command_path() -> Path:
    """The absolute path of the `assistant` command that is running now, so the launcher starts this install."""
    if getattr(sys, "frozen", False):  # a PyInstaller build: the executable is the command
        return Path(sys.executable).absolute()
    # A venv or pipx install puts the console script beside its interpreter; don't resolve the venv's python symlink.
    sibling = Path(sys.executable).absolute().parent / "assistant"
    if sibling.is_file() and os.access(sibling, os.X_OK):
        return sibling
    found = shutil.which("assistant")
    if found:
        return Path(found).absolute()
    raise UsageError("The `assistant` command is not installed; install it first (`pipx install .`), then run `assistant desktop install`.")


def _exec_arg(path: Path) -> str:
    """Quote per the Desktop Entry spec: reserved characters need double quotes, and '%' is a field-code prefix."""
    text = str(path).replace("%", "%%")
    if any(ch in text for ch in ' \t\n"\'\\><~|&;$*?#()`'):
        text = '"' + "".join("\\" + ch if ch in '"`$\\' else ch for ch in text) + '"'
    # The whole value is itself a desktop-file string, where a backslash is written twice.
    return text.replace("\\", "\\\\")


def _string_value(path: Path) -> str:
    """TryExec is a plain string value (no quoting rules), only backslash escapes."""
    return str(path).replace("\\", "\\\\")


def _template() -> str:
    path = asset_path(TEMPLATE)
    if not path.exists():  # a source checkout keeps the template with the other packaging files
        path = Path(__file__).resolve().parent.parent / "packaging" / TEMPLATE
    return path.read_text(encoding="utf-8")


def render_entry(command: Path) -> str:
    """The .desktop file for this install: Exec runs `command` in the user's terminal (Terminal=true)."""
    text = _template()
    for key, value in (("@EXEC@", _exec_arg(command)), ("@TRYEXEC@", _string_value(command)), ("@ICON@", APP_ID)):
        text = text.replace(key, value)
    return text


def _write(path: Path, data: bytes) -> None:
    """Write beside the target then rename, so a menu never reads half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    os.replace(partial, path)


def _refresh_menu(launcher: Launcher) -> None:
    """Desktops watch these folders; the MIME cache refresh is a courtesy where the tool exists."""
    tool = shutil.which("update-desktop-database")
    if tool:
        env = dict(os.environ)
        if getattr(sys, "frozen", False):
            # PyInstaller's bootloader puts its bundled libraries first; a system tool needs the system's own.
            original = env.pop("LD_LIBRARY_PATH_ORIG", None)
            env.pop("LD_LIBRARY_PATH", None)
            if original is not None:
                env["LD_LIBRARY_PATH"] = original
        try:
            subprocess.run([tool, "-q", str(launcher.desktop_file.parent)], check=False, timeout=30, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except (OSError, subprocess.SubprocessError):
            pass


def _require_freedesktop() -> None:
    if not sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        raise UsageError("Desktop launchers are a Linux (freedesktop) feature; on this system start `assistant` from a terminal.")


def install(environ: dict[str, str] | None = None, command: Path | None = None) -> Launcher:
    """Write the .desktop entry and both icons; running it again updates them in place."""
    _require_freedesktop()
    launcher = Launcher(data_home(environ))
    entry = render_entry(command or command_path())
    try:
        _write(launcher.svg_icon, asset_path("icon.svg").read_bytes())
        _write(launcher.png_icon, asset_path("icon.png").read_bytes())
        _write(launcher.desktop_file, entry.encode("utf-8"))
    except OSError as exc:
        raise UsageError(f"Cannot write the launcher under {launcher.data_home} ({exc.strerror or exc}); check that folder's permissions.") from exc
    _refresh_menu(launcher)
    return launcher


def uninstall(environ: dict[str, str] | None = None) -> tuple[Path, ...]:
    """Remove what install() wrote; returns the files that were there."""
    _require_freedesktop()
    launcher = Launcher(data_home(environ))
    removed = []
    for path in launcher.files:
        try:
            path.unlink()
            removed.append(path)
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise UsageError(f"Cannot remove {path} ({exc.strerror or exc}); check that folder's permissions.") from exc
    if removed:
        _refresh_menu(launcher)
    return tuple(removed)
