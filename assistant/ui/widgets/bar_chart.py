"""A labelled horizontal bar chart in plain text (savings per day, recent request times)."""

from __future__ import annotations

from textual.widgets import Static

_EIGHTHS = " ▏▎▍▌▋▊▉█"


def bar(value: float, top: float, width: int) -> str:
    if top <= 0 or value <= 0:
        return ""
    eighths = max(1, round(value / top * width * 8))
    return "█" * (eighths // 8) + (_EIGHTHS[eighths % 8] if eighths % 8 else "")


class BarChart(Static):
    """Rows of label, bar and formatted value; the widest bar is `width` cells."""

    def __init__(self, title: str, *, id: str | None = None, width: int = 40) -> None:
        super().__init__("", id=id, classes="chart", markup=False)
        self.border_title = title
        self.width_cells = width

    def plot(self, rows: list[tuple[str, float]], unit: str = "", empty: str = "No data yet.") -> None:
        if not rows:
            self.update(empty)
            return
        top = max(v for _, v in rows)
        label_w = max(len(label) for label, _ in rows)
        lines = [f"{label:>{label_w}} {bar(v, top, self.width_cells):<{self.width_cells}} {fmt(v, unit)}" for label, v in rows]
        self.update("\n".join(lines))


def fmt(value: float, unit: str) -> str:
    if unit == "$":
        from assistant.core.money import usd

        return usd(value)
    if unit == "ms":
        from assistant.core.units import ms

        return ms(value)
    return f"{value:,.2f}{unit}"
