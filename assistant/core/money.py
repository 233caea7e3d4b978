"""One way to write an amount of money, used by every command and panel."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.core.pricing import Price


def usd(value: float) -> str:
    """$0, $0.000123, $0.0123, $12.3456, $1,234.56: a fraction of a cent stays visible, large sums stay short."""
    if value == 0:
        return "$0"
    sign = "-" if value < 0 else ""
    value = abs(value)
    if value < 0.0001:
        return f"{sign}${value:.6f}"
    if value < 100:
        return f"{sign}${value:.4f}"
    return f"{sign}${value:,.2f}"


def per_mtok(input_per_token: float, output_per_token: float) -> str:
    """A model's price: $0.15/$0.60 per Mtok (input/output, per million tokens)."""
    return f"${input_per_token * 1e6:.2f}/${output_per_token * 1e6:.2f} per Mtok"


def price_text(price: Price | None) -> str:
    """A model's price as the model lists show it: unknown, free, or per million tokens."""
    if price is None:
        return "price unknown"
    if not price.input_per_token and not price.output_per_token:
        return "free"
    return per_mtok(price.input_per_token, price.output_per_token)
