"""Pick a model: every model grouped by provider, with availability and price per million tokens."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from assistant.core.money import price_text
from assistant.core.pricing import Price
from assistant.core.textsafe import for_terminal
from assistant.core.types import ModelInfo, ModelRef
from assistant.ui.advice import for_app
from assistant.ui.messages import ModelsLoaded
from assistant.ui.worker_errors import ForwardWorkerFailures

if TYPE_CHECKING:
    from assistant.engine.engine import Engine

AUTO = "auto"
SAME = "#"  # never part of a model name: marks a second listing of the same model


def model_options(models: dict[str, list[ModelInfo]], price: Callable[[ModelRef], Price | None],
                  query: str = "") -> list[Option | None]:
    """A header per provider (and per server, when it has several: Ollama hosts); a reason shared by all its models
    (no key, not running) is said once there. A model on two servers is listed under each; the router picks.
    `query` keeps the models whose provider:model contains each of its words."""
    words = query.lower().split()
    items: list[Option | None] = [] if words else [Option(Content("Automatic: the router chooses (local first)"),
                                                          id=AUTO)]
    used: set[str] = set()
    for provider, all_infos in models.items():
        infos = [i for i in all_infos if all(w in str(i.ref).lower() for w in words)]
        if not infos:
            continue
        details = {for_app(info.detail) for info in infos}
        shared = details.pop() if len(details) == 1 and infos and not infos[0].available else ""
        several = len({info.where for info in infos}) > 1
        items.append(None)
        items.append(Option(Content(f"{provider}" + (f" · {for_terminal(shared)}" if shared else "")), disabled=True))
        where = None
        for info in infos:
            if several and info.where != where:
                where = info.where
                items.append(Option(Content(f" @ {for_terminal(where)}"), disabled=True))
            state = "ready" if info.available else "unavailable"
            detail = f" · {for_terminal(for_app(info.detail))}" if info.detail and not shared else ""
            size = f" · {info.size}" if getattr(info, "size", "") else ""
            line = f"  {for_terminal(info.ref.model)}  [{state}] · {price_text(price(info.ref))}{size}{detail}"
            ident = str(info.ref)
            while ident in used:  # the same model on another host: a distinct id, the same choice
                ident += SAME
            used.add(ident)
            items.append(Option(Content(line), id=ident, disabled=info.ref.model == "?"))
    if not items:
        items.append(Option(Content(f"No model matches '{for_terminal(query)}'."), disabled=True))
    return items


class ModelPickerScreen(ForwardWorkerFailures, ModalScreen[str | None]):
    """Dismisses with "provider:model", AUTO, or None when cancelled; unavailable models can still be chosen."""

    BINDINGS = [Binding("escape", "cancel", "Cancel"),
                # Typing goes to the filter; the arrows move through the list from there.
                Binding("up", "move(-1)", show=False, priority=True),
                Binding("down", "move(1)", show=False, priority=True),
                Binding("pageup", "move(-10)", show=False, priority=True),
                Binding("pagedown", "move(10)", show=False, priority=True)]

    def __init__(self, engine: Engine, current: str | None) -> None:
        super().__init__(classes="dialog")
        self.engine = engine
        self.current = current
        self.models: dict[str, list[ModelInfo]] | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box wide"):
            yield Static(f"Model (now: {self.current or 'automatic'}) — type to filter, ↑/↓ choose, Enter picks, "
                         "F7 manages the models on this machine (pull, remove), Esc cancels", markup=False)
            yield Input(placeholder="filter, e.g. mini or ollama", id="models-filter")
            yield OptionList(Option(Content("Looking for models…"), disabled=True), id="models")

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        self.load_models()

    @work(exclusive=True, exit_on_error=False, group="models")
    async def load_models(self) -> None:
        self.post_message(ModelsLoaded(await self.engine.list_models()))

    def on_models_loaded(self, message: ModelsLoaded) -> None:
        self.models = message.models
        self._show(self.query_one(Input).value)

    def _show(self, query: str) -> None:
        if self.models is None:
            return
        options = self.query_one(OptionList)
        options.set_options(model_options(self.models, self.engine.price, query))
        target = self.current or AUTO
        found = [i for i in range(options.option_count) if not options.get_option_at_index(i).disabled]
        chosen = [i for i in found if options.get_option_at_index(i).id == target]
        options.highlighted = (chosen or found)[0] if found else None

    def on_input_changed(self, event: Input.Changed) -> None:
        self._show(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is not None:
            option = options.get_option_at_index(options.highlighted)
            if not option.disabled and option.id:
                self.dismiss(option.id.split(SAME)[0])

    def action_move(self, step: int) -> None:
        options = self.query_one(OptionList)
        if step > 0:
            for _ in range(step):
                options.action_cursor_down()
        else:
            for _ in range(-step):
                options.action_cursor_up()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id.split(SAME)[0] if event.option.id else None)

    def action_cancel(self) -> None:
        self.dismiss(None)
