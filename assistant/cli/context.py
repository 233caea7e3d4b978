"""Builds paths, settings and the engine for a command; prints start-up notices."""

from __future__ import annotations

import sys

from assistant.config import Settings, load_settings
from assistant.paths import Paths, resolve_paths


def load() -> tuple[Paths, Settings]:
    paths = resolve_paths()
    return paths, load_settings(paths.config_file)


def open_engine(paths: Paths, settings: Settings, *, quiet: bool = False) -> "object":
    from assistant.engine.engine import Engine
    from assistant.storage.db import open_database

    paths.data_dir.mkdir(parents=True, exist_ok=True)
    opened = open_database(paths.database)
    engine = Engine(settings, opened.conn)
    if opened.moved_aside is not None:
        note = f"The database was damaged; it was kept as {opened.moved_aside} and a fresh one was started."
        engine.notices.append(note)
        if not quiet:
            print(f"assistant: {note}", file=sys.stderr)
    return engine
