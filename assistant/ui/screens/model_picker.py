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
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from assistant.core.pricing import Price
from assistant.core.textsafe import for_terminal
from assistant.core.types import ModelInfo, ModelRef
from assistant.ui.messages import ModelsLoaded
from assistant.ui.worker_errors import ForwardWorkerFailures

if TYPE_CHECKING:
    from assistant.engine.engine import Engine

AUTO = "auto"
SAME = "#"  # never part of a model name: marks a second listing of the same model


def price_text(price: Price | None) -> str:
    if price is None:
        return "price unknown"
    if not price.input_per_token and not price.output_per_token:
        return "free"
    return f"${price.input_per_token * 1e6:.2f} in / ${price.output_per_token * 1e6:.2f} out per Mtok"


def model_options(models: dict[str, list[ModelInfo]], price: Callable[[ModelRef], Price | None]) -> list[Option | None]:
    """A header per provider (and per server, when it has several: Ollama hosts); a reason shared by all its models
    (no key, not running) is said once there. A model on two servers is listed under each; the router picks."""
    items: list[Option | None] = [Option(Content("Automatic: the router chooses (local first)"), id=AUTO)]
    used: set[str] = set()
    for provider, infos in models.items():
        details = {info.detail for info in infos}
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
            detail = f" · {for_terminal(info.detail)}" if info.detail and not shared else ""
            size = f" · {info.size}" if getattr(info, "size", "") else ""
            line = f"  {for_terminal(info.ref.model)}  [{state}] · {price_text(price(info.ref))}{size}{detail}"
            ident = str(info.ref)
            while ident in used:  # the same model on another host: a distinct id, the same choice
                ident += SAME
            used.add(ident)
            items.append(Option(Content(line), id=ident, disabled=info.ref.model == "?"))
    return items


class ModelPickerScreen(ForwardWorkerFailures, ModalScreen[str | None]):
    """Dismisses with "provider:model", AUTO, or None when cancelled; unavailable models can still be chosen."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, engine: Engine, current: str | None) -> None:
        super().__init__(classes="dialog")
        self.engine = engine
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box wide"):
            yield Label(f"Model (now: {self.current or 'automatic'}) — Enter picks, F7 manages the models on this "
                        "machine (pull, remove), Esc cancels", markup=False)
            yield OptionList(Option(Content("Looking for models…"), disabled=True), id="models")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()
        self.load_models()

    @work(exclusive=True, exit_on_error=False, group="models")
    async def load_models(self) -> None:
        self.post_message(ModelsLoaded(await self.engine.list_models()))

    def on_models_loaded(self, message: ModelsLoaded) -> None:
        options = self.query_one(OptionList)
        options.set_options(model_options(message.models, self.engine.price))
        target = self.current or AUTO
        for index in range(options.option_count):
            if options.get_option_at_index(index).id == target:
                options.highlighted = index
                break

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id.split(SAME)[0] if event.option.id else None)

    def action_cancel(self) -> None:
        self.dismiss(None)
