"""A Footer that rebuilds its keys once per burst of binding changes, only when what it shows changed, and shows
some keys only where there is room for them."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


class QuietFooter(Footer):
    """Textual's Footer rebuilds every key on each focus change; at start-up that is five rebuilds of ~20 keys
    (about 15 ms each on this machine) that all draw the same line."""

    _pending = False
    _shown: tuple[Any, ...] | None = None

    def __init__(self, *, wide_only: frozenset[str] = frozenset(), compact: bool = True) -> None:
        super().__init__(compact=compact)
        # Actions whose keys are drawn only on a wide screen (the stylesheet hides `.-wide-only` otherwise);
        # every key is in the help screen (F1) and the command palette anyway.
        self.wide_only = wide_only

    def _bindings_shown(self) -> tuple[Any, ...]:
        active = self.screen.active_bindings
        keys = tuple((b.key, b.key_display, b.description, b.action, b.group, enabled, tooltip)
                     for (_, b, enabled, tooltip) in active.values() if b.show)
        palette = active.get(self.app.COMMAND_PALETTE_BINDING)
        return keys, self.show_command_palette, self.app.ENABLE_COMMAND_PALETTE, palette and palette[2]

    def bindings_changed(self, screen: Screen[object]) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus or self._pending:
            return
        if self.is_attached and screen is self.screen:
            self._pending = True
            self.call_after_refresh(self._recompose_if_changed)

    async def _recompose_if_changed(self) -> None:
        self._pending = False
        if self.is_attached and self._bindings_shown() != self._shown:
            await self.recompose()
            self.call_after_refresh(self._hide_overflow)

    def on_resize(self) -> None:
        for key in self.query(".-no-room"):
            key.remove_class("-no-room")
        self.call_after_refresh(self._hide_overflow)

    def _hide_overflow(self) -> None:
        """Keys that would run under the palette key (or off the edge) are hidden, last first: never a cut key."""
        keys = list(self.query(FooterKey))
        palette = next((k for k in keys if k.has_class("-command-palette")), None)
        limit = self.size.width - (palette.outer_size.width if palette is not None else 0)
        for key in keys:
            if key is not palette and key.display and key.virtual_region.right > limit:
                key.add_class("-no-room")

    def compose(self) -> ComposeResult:
        if self._bindings_ready:
            self._shown = self._bindings_shown()
        for widget in super().compose():
            if isinstance(widget, FooterKey):
                if widget.action in self.wide_only:
                    widget.add_class("-wide-only")
                # Footer binds each key's `compact` to its own, and the binding sets it again once mounted, which
                # draws every key a second time; this footer's `compact` never changes after it is made.
                widget.set_reactive(FooterKey.compact, self.compact)
                widget.set_class(self.compact, "-compact")
                widget._reactive_connect = None
            yield widget
        self.call_after_refresh(self._hide_overflow)
