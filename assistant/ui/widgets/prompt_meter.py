"""The line under the prompt: tokens the question and its context would send, the model's window, the cost range."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Static

from assistant.core.money import usd

if TYPE_CHECKING:
    from assistant.core.types import Estimate


def meter_text(est: Estimate) -> str:
    """≈ 130 tokens (20 new + 110 context) of 2,048 · embedded:smollm2 · $0"""
    sign = "≈ " if est.estimated else ""
    parts = [f"{sign}{est.input_tokens:,} tokens ({est.prompt_tokens:,} new + {est.context_tokens:,} context)"]
    if est.context_window:
        parts[0] += f" of {est.context_window:,}"
    if est.ref is not None:
        parts.append(str(est.ref))
    if est.cost_low is None or est.cost_high is None:
        parts.append("price unknown")
    elif est.cost_high == 0:
        parts.append(usd(0))
    else:
        parts.append(f"{usd(est.cost_low)}–{usd(est.cost_high)} (answer up to {est.max_output_tokens:,} tokens)")
    text = " · ".join(parts)
    if est.over_window:
        text += (" · more than the model's window: start a new conversation (ctrl+n) or pick a bigger model (F2); "
                 "Enter again sends anyway")
    elif est.warnings:  # the answer may be cut short, the monthly budget is close
        text += " · " + est.warnings[0]
    return text


class PromptMeter(Static):
    """Hidden while the prompt is empty; shows the last estimate (made while typing pauses)."""

    def __init__(self) -> None:
        super().__init__("", id="meter", markup=False)
        self.estimate: Estimate | None = None

    def show(self, est: Estimate | None) -> None:
        self.estimate = est
        self.display = est is not None
        if est is not None:
            self.update(meter_text(est))
            self.set_class(est.over_window, "over")
