"""Sizes, durations, moments and speeds written for people, the same way in every command and screen; and what the
latency figures mean."""

from __future__ import annotations

FIRST_TOKEN_MEANS = ("first token: from the answering model's first try (its loading and any retry waits included) "
                     "to its first token; a cache hit counts from Enter")
SPEED_MEANS = "tokens/s: the tokens after the first, divided by the time after the first token (cache hits have none)"


def size_text(size: float) -> str:
    """512 bytes, 12 KB, 2.3 MB, 4.1 GB (powers of ten, as Ollama and disk tools report them)."""
    if size >= 1e9:
        return f"{size / 1e9:.1f} GB"
    if size >= 1e6:
        return f"{size / 1e6:.1f} MB"
    return f"{size / 1e3:.0f} KB" if size >= 1e3 else f"{size:.0f} bytes"


def duration(seconds: float) -> str:
    """45 s, 3 min 20 s, 2 h 5 min."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def ago(seconds: float) -> str:
    """How long ago, at the precision a list needs: just now, 5 minutes ago, 3 days ago, 2 months ago."""
    for unit, size in (("year", 365 * 86400), ("month", 30 * 86400), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count > 1 else ''} ago"
    return "just now"


def bar(fraction: float, cells: int) -> str:
    """A progress bar in half cells: 0.53 of 24 cells is twelve full, one half, eleven empty."""
    halves = int(min(1.0, max(0.0, fraction)) * cells * 2)
    full, half = divmod(halves, 2)
    return "█" * full + "▌" * half + "░" * (cells - full - half)


def ms(value: float | None) -> str:
    """1,234 ms; "-" when not measured."""
    return "-" if value is None else f"{value:,.0f} ms"


def speed(value: float | None) -> str:
    """The number alone, one decimal: 7.3; "-" when not measured."""
    return "-" if value is None else f"{value:,.1f}"
