"""Launch the Textual app (imported only when the user runs `assistant` with no command)."""

from __future__ import annotations


def run_tui() -> int:
    from assistant.cli.context import load
    from assistant.ui.app import make_app

    paths, settings = load()
    app = make_app(paths, settings)
    app.run()
    return int(app.return_code or 0)
