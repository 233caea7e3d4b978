"""The keys of the screen on one line, drawn by one widget: Textual's Footer mounts a widget per key (about 50 ms
for the chat screen's keys on this machine, the largest single cost of the start-up), this draws them in one
render. Some keys are shown only where there is room for them; a key that does not fit is left out, never cut."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from rich.text import Text
from textual import events
from textual.widget import Widget

if TYPE_CHECKING:
    from rich.style import Style
    from textual.binding import Binding
    from textual.screen import Screen


class Key(NamedTuple):
    """One key as drawn: where it is on the line, and what pressing or pointing at it does."""

    start: int
    end: int
    key: str
    label: str  # e.g. "^n New"
    enabled: bool
    tooltip: str


Shown = tuple["Binding", bool, str]  # a binding, whether it can run now, what pointing at it says
Wanted = tuple[tuple[Shown, ...], Shown | None]  # the keys, then the command palette's


class KeyBar(Widget, can_focus=False):
    """The screen's keys (bindings with `show`), then the command palette's key at the right edge."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"key-bar--key", "key-bar--description", "key-bar--hover", "key-bar--edge"}

    def __init__(self, *, wide_only: frozenset[str] = frozenset()) -> None:
        super().__init__()
        # Actions whose keys are drawn only on a wide screen (the screen has the -narrow class otherwise); every
        # key is in the help screen (F1) and the command palette anyway.
        self.wide_only = wide_only
        self.keys: list[Key] = []  # as drawn by the last render
        self.hover: int | None = None
        self._shown: Wanted | None = None

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        # Focus moves often (five times at start-up); the line is drawn again only when it would change.
        if self.is_attached and screen is self.screen and self._wanted() != self._shown:
            self.refresh()

    def _wanted(self) -> Wanted:
        active = self.screen.active_bindings
        shown: dict[str, Shown] = {}
        narrow = self.screen.has_class("-narrow")
        for _, binding, enabled, tooltip in active.values():
            if binding.show and binding.action not in shown and not (narrow and binding.action in self.wide_only):
                shown[binding.action] = (binding, enabled, tooltip or binding.tooltip or binding.description)
        palette = active.get(self.app.COMMAND_PALETTE_BINDING) if self.app.ENABLE_COMMAND_PALETTE else None
        edge = (palette[1], palette[2], palette[1].tooltip or palette[1].description) if palette else None
        return tuple(shown.values()), edge

    def on_resize(self) -> None:
        self.refresh()

    def render(self) -> Text:
        self._shown = (shown, edge) = self._wanted()
        key_style = self.get_component_rich_style("key-bar--key")
        text_style = self.get_component_rich_style("key-bar--description")
        hover_style = self.get_component_rich_style("key-bar--hover")
        edge_text = Text()
        if edge is not None:
            binding, enabled, _ = edge
            edge_text.append("▏", self.get_component_rich_style("key-bar--edge"))
            edge_text.append_text(self._key_text(binding, enabled, key_style, text_style))
            edge_text.append(" ")  # the margin Textual's footer leaves after every key
        room = self.size.width - edge_text.cell_len
        line, keys, x = Text(no_wrap=True, overflow="crop", end=""), list[Key](), 0
        for binding, enabled, tooltip in shown:
            label = self._key_text(binding, enabled, key_style, text_style)
            if x + label.cell_len > room:  # this key and every later one: left out, never cut
                break
            if self.hover == len(keys):
                label.stylize(hover_style)
            keys.append(Key(x, x + label.cell_len, binding.key, label.plain, enabled, tooltip))
            line.append_text(label)
            line.append(" ")
            x += label.cell_len + 1
        if edge is not None:
            start = self.size.width - edge_text.cell_len + 1
            line.append(" " * max(0, self.size.width - edge_text.cell_len - line.cell_len))
            binding, enabled, tooltip = edge
            keys.append(Key(start, self.size.width - 1, binding.key, edge_text.plain[1:-1], enabled, tooltip))
            line.append_text(edge_text)
        self.keys = keys
        return line

    def _key_text(self, binding: Binding, enabled: bool, key_style: Style, text_style: Style) -> Text:
        text = Text.assemble((self.app.get_key_display(binding), key_style), (f" {binding.description}", text_style))
        if not enabled:
            text.stylize("dim")
        return text

    def key_at(self, x: int) -> int | None:
        return next((i for i, key in enumerate(self.keys) if key.start <= x < key.end), None)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        index = self.key_at(event.x)
        if index != self.hover:
            self.hover = index
            self.tooltip = self.keys[index].tooltip if index is not None else None
            self.refresh()

    def on_leave(self) -> None:
        if self.hover is not None:
            self.hover = None
            self.refresh()

    def on_mouse_down(self, event: events.MouseDown) -> None:
        index = self.key_at(event.x)
        if index is None:
            return
        if self.keys[index].enabled:
            self.app.simulate_key(self.keys[index].key)
        else:
            self.app.bell()

    def descriptions(self) -> list[str]:
        """What each key drawn now does, the palette's last (as the help screen and the tests name them)."""
        return [key.label.split(" ", 1)[1] for key in self.keys]
