"""Find bundled assets (price table, icons, styles) in a wheel, a source checkout or a frozen build."""

from __future__ import annotations

import sys
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent  # assistant/


def asset_path(name: str) -> Path:
    """Wheels carry assets inside the package; a checkout keeps them at the top level."""
    candidates = [_PACKAGE / "assets" / name, _PACKAGE.parent / "assets" / name]
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        candidates.insert(0, Path(frozen) / "assistant" / "assets" / name)
    for path in candidates:
        if path.exists():
            return path
    return candidates[-1]
