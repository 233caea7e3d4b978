"""One answer in the chat: a header naming the model, a wait line until the first token, streamed Markdown, and a
line of figures."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static

from assistant.core.money import usd
from assistant.core.textsafe import for_terminal
from assistant.core.tools import ToolCall, ToolResult
from assistant.core.types import Answer
from assistant.core.units import ms, speed
from assistant.ui.widgets.transcript_item import ITEM_BINDINGS, TranscriptItem
from assistant.ui.widgets.wait_line import WaitLine

_FENCE = re.compile(r"```[^\n]*\n(.*?)(?:```|\Z)", re.S)


def answer_figures(answer: Answer, local: bool) -> str:
    """model · local/cloud/cached · time to first token · tokens/s · cost or saving (units as in core/units.py)."""
    where = "cached" if answer.cached else "local" if local else "cloud"
    if answer.cached and answer.cache not in (None, "exact"):
        where = "similar question" if answer.cache == "semantic" else f"from the {answer.cache} cache"
    parts = [for_terminal(f"{answer.provider}:{answer.model}"), where]
    if answer.ttft_ms is not None:
        parts.append(f"first token {ms(answer.ttft_ms)}")
    rate = answer.tokens_per_second
    if rate:
        parts.append(f"{speed(rate)} tok/s")
    parts.append(f"{answer.usage.output_tokens:,} tokens{'~' if answer.usage.estimated else ''}")
    if answer.cost_usd:
        parts.append(f"cost {usd(answer.cost_usd)}{' est.' if answer.cost_estimated else ''}")
    if answer.saved_usd:
        parts.append(f"saved {usd(answer.saved_usd)}")
    elif not answer.cost_usd:
        parts.append(usd(0))
    if answer.tool_results:
        from assistant.tools.display import summary_line

        parts.append(summary_line(answer.tool_results, answer.tools_ms))
    return " · ".join(parts)


class AnswerView(TranscriptItem, Vertical, can_focus=True):
    """Streams text through Markdown.get_stream, which batches appends the renderer cannot keep up with."""

    BINDINGS = [*ITEM_BINDINGS, Binding("r", "item('regenerate')", "Regen",
                                        tooltip="Answer this question again (this answer stays, ←/→ switches)")]
    role = "assistant"

    def __init__(self, text: str = "", *, header: str = "", figures: str = "", status: str = "",
                 message_id: int | None = None, parent_id: int | None = None, alternatives: tuple[int, ...] = (),
                 tools: Sequence[ToolResult] = (), similar: bool = False) -> None:
        super().__init__(classes="answer")
        self.answer_text = text
        self._live = not (text or header or figures or status)  # streamed now, not read back from history
        self._header = for_terminal(header) or "thinking…"  # a model name, possibly from a server
        self._figures = for_terminal(figures or status)
        self._stream: Any = None
        self.message_id, self.parent_id, self.alternatives = message_id, parent_id, alternatives
        self.similar = similar  # reused from a similar question: the user may mark it wrong
        self._tools = list(tools)  # calls history kept, shown when the answer is opened again

    @property
    def text(self) -> str:
        return self.answer_text

    def compose(self) -> ComposeResult:
        # Imported here: the Markdown parser is not needed for the first paint of an empty chat.
        from textual.widgets import Markdown

        yield Static(self._header_text(), classes="answer-header", markup=False)
        if self._live:
            yield WaitLine()
        with Vertical(classes="answer-tools") as tools:
            tools.display = bool(self._tools)
            if self._tools:
                from assistant.ui.widgets.tool_call_view import ToolCallView

                for result in self._tools:
                    yield ToolCallView(result=result)
        yield Markdown(self.answer_text, classes="answer-body")
        yield Static(self._figures, classes="answer-figures", markup=False)

    def tool_started(self, call: ToolCall) -> None:
        from assistant.ui.widgets.tool_call_view import ToolCallView

        tools = self.query_one(".answer-tools", Vertical)
        tools.display = True
        tools.mount(ToolCallView(call))

    def tool_finished(self, call: ToolCall, result: ToolResult) -> None:
        from assistant.ui.widgets.tool_call_view import ToolCallView

        tools = self.query_one(".answer-tools", Vertical)
        running = [v for v in tools.query(ToolCallView) if v.call_id == call.id and not v.done]
        if running:
            running[-1].finish(result)
        else:  # refused or never run: it did not start
            tools.display = True
            tools.mount(ToolCallView(call, result))

    def _header_text(self) -> str:
        marker = self.alternatives_text()
        return f"{self._header}   {marker}  ←/→ switch" if marker else self._header

    def show_alternatives(self) -> None:
        if self.is_mounted:
            self.query_one(".answer-header", Static).update(self._header_text())

    def _wait_line(self) -> WaitLine | None:
        found = self.query(WaitLine)
        return found.first() if found else None

    def started(self, model: str, where: str, reason: str) -> None:
        self._header = for_terminal(f"{model} · {where}")
        self.show_alternatives()
        self.tooltip = for_terminal(reason) or None
        line = self._wait_line()
        if line is not None and where != "cached":
            line.waiting_for(f"waiting for the first token from {model}")

    def waiting(self, what: str | None = None, detail: str | None = None) -> None:
        line = self._wait_line()
        if line is not None and line.display:
            line.waiting_for(what, detail)

    async def write(self, text: str) -> None:
        if self._stream is None:
            from textual.widgets import Markdown

            line = self._wait_line()
            if line is not None:
                line.stop()
            self._stream = Markdown.get_stream(self.query_one(".answer-body", Markdown))
        self.answer_text += text
        await self._stream.write(text)

    async def _close(self) -> None:
        line = self._wait_line()
        if line is not None:
            line.stop()
        if self._stream is not None:
            stream, self._stream = self._stream, None
            await stream.stop()

    async def finish(self, answer: Answer, local: bool) -> None:
        await self._close()
        self.message_id, self.similar = answer.message_id, answer.cache == "semantic"
        self.query_one(".answer-figures", Static).update(answer_figures(answer, local))

    def stopping(self) -> None:
        self.query_one(".answer-figures", Static).update("stopping…")

    async def end(self, note: str, *, error: bool = False) -> None:
        await self._close()
        figures = self.query_one(".answer-figures", Static)
        figures.update(note)
        figures.set_class(error, "error")
        if not self.answer_text:
            self.query_one(".answer-body").display = False

    @property
    def streaming(self) -> bool:
        return self._stream is not None

    def last_code_block(self) -> str | None:
        blocks = _FENCE.findall(self.answer_text)
        return blocks[-1].rstrip("\n") if blocks else None
