"""A Footer that rebuilds its keys once per burst of binding changes, and only when what it shows changed."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer


class QuietFooter(Footer):
    """Textual's Footer rebuilds every key on each focus change; at start-up that is five rebuilds of ~20 keys
    (about 15 ms each on this machine) that all draw the same line."""

    _pending = False
    _shown: tuple[Any, ...] | None = None

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

    def compose(self) -> ComposeResult:
        if self._bindings_ready:
            self._shown = self._bindings_shown()
        yield from super().compose()
