"""Where every file the app writes lives: platformdirs, or everything under ASSISTANT_HOME."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "assistant"


@dataclass(frozen=True)
class Paths:
    """The app's folders; created on first use, never at import."""

    config_dir: Path
    data_dir: Path
    cache_dir: Path
    log_dir: Path

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    @property
    def database(self) -> Path:
        return self.data_dir / "assistant.db"

    @property
    def log_file(self) -> Path:
        return self.log_dir / "assistant.log"

    @property
    def state_file(self) -> Path:
        """Small UI state (theme, last model) that is not configuration."""
        return self.data_dir / "state.json"


def resolve_paths(environ: Mapping[str, str] | None = None) -> Paths:
    """ASSISTANT_HOME wins so tests and portable installs keep everything in one folder."""
    env = os.environ if environ is None else environ
    home = env.get("ASSISTANT_HOME")
    if home:
        root = Path(home).expanduser().resolve()
        return Paths(root / "config", root / "data", root / "cache", root / "logs")
    import platformdirs

    dirs = platformdirs.PlatformDirs(APP_NAME, appauthor=False)
    return Paths(
        Path(dirs.user_config_dir),
        Path(dirs.user_data_dir),
        Path(dirs.user_cache_dir),
        Path(dirs.user_log_dir),
    )
