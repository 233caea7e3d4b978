"""Launch the Textual app (imported only when the user runs `assistant` with no command)."""

from __future__ import annotations


def run_tui() -> int:
    import gc

    # Start-up creates ~10^5 long-lived objects that collections would only re-scan (~30 ms here); the app
    # freezes them and turns collection back on once its first frame is out (AssistantApp.on_mount).
    gc.disable()
    from assistant.ui.app import make_app

    app = make_app()
    app.run()
    if app.startup_error is not None:  # one line on stderr, as for any command (assistant/main.py)
        raise app.startup_error
    return int(app.return_code or 0)
