"""Small UI state remembered between runs (theme, last model): read before start, written on change."""

from __future__ import annotations

import json
import os
from pathlib import Path


def load_state(path: Path) -> dict[str, str]:
    """A missing or damaged state file is the same as an empty one: it only holds preferences."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def save_state(path: Path, **values: str) -> None:
    """Merge `values` into the file; written atomically so a crash never leaves half a file."""
    state = load_state(path)
    state.update(values)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(state, indent=1), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:  # a read-only home must not break the app; the preference is simply not kept
        pass
