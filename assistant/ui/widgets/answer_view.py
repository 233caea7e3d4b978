"""One answer in the chat: a header naming the model, its tool calls (collapsed), streamed Markdown, and a line of
figures."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from assistant.core.money import usd
from assistant.core.tools import ToolCall, ToolResult
from assistant.core.types import Answer

_FENCE = re.compile(r"```[^\n]*\n(.*?)(?:```|\Z)", re.S)


def answer_figures(answer: Answer, local: bool) -> str:
    """model · local/cloud/cached · time to first token · tokens/s · cost or saving."""
    where = ("similar question" if answer.cache == "semantic" else "from the team cache" if answer.cache == "team"
             else "cached") if answer.cached else "local" if local else "cloud"
    parts = [f"{answer.provider}:{answer.model}", where]
    if answer.ttft_ms is not None:
        parts.append(f"first token {answer.ttft_ms:,.0f} ms")
    rate = answer.tokens_per_second
    if rate:
        parts.append(f"{rate:,.0f} tok/s")
    parts.append(f"{answer.usage.output_tokens:,} tokens{'~' if answer.usage.estimated else ''}")
    if answer.cost_usd:
        parts.append(f"cost {usd(answer.cost_usd)}{' est.' if answer.cost_estimated else ''}")
    if answer.saved_usd:
        parts.append(f"saved {usd(answer.saved_usd)}")
    elif not answer.cost_usd:
        parts.append("$0")
    if answer.tool_results:
        from assistant.tools.display import summary_line

        parts.append(summary_line(answer.tool_results, answer.tools_ms))
    return " · ".join(parts)


class AnswerView(Vertical, can_focus=True):
    """Streams text through Markdown.get_stream, which batches appends the renderer cannot keep up with."""

    def __init__(self, text: str = "", *, header: str = "", figures: str = "", status: str = "",
                 tools: Sequence[ToolResult] = (), message_id: int | None = None, similar: bool = False) -> None:
        super().__init__(classes="answer")
        self.text = text
        self.message_id = message_id
        self.similar = similar  # reused from a similar question: the user may mark it wrong
        self._header = header or "thinking…"
        self._figures = figures or status
        self._stream: Any = None
        self._tools = list(tools)  # calls history kept, shown when the answer is opened again

    def compose(self) -> ComposeResult:
        # Imported here: the Markdown parser is not needed for the first paint of an empty chat.
        from textual.widgets import Markdown

        yield Static(self._header, classes="answer-header", markup=False)
        with Vertical(classes="answer-tools") as tools:
            tools.display = bool(self._tools)
            if self._tools:
                from assistant.ui.widgets.tool_call_view import ToolCallView

                for result in self._tools:
                    yield ToolCallView(result=result)
        yield Markdown(self.text, classes="answer-body")
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

    def started(self, model: str, where: str, reason: str) -> None:
        self.query_one(".answer-header", Static).update(f"{model} · {where}")
        self.tooltip = reason or None

    async def write(self, text: str) -> None:
        if self._stream is None:
            from textual.widgets import Markdown

            self._stream = Markdown.get_stream(self.query_one(".answer-body", Markdown))
        self.text += text
        await self._stream.write(text)

    async def _close(self) -> None:
        if self._stream is not None:
            stream, self._stream = self._stream, None
            await stream.stop()

    async def finish(self, answer: Answer, local: bool) -> None:
        await self._close()
        self.message_id, self.similar = answer.message_id, answer.cache == "semantic"
        self.query_one(".answer-figures", Static).update(answer_figures(answer, local))

    def waiting(self, what: str) -> None:
        self.query_one(".answer-figures", Static).update(f"… {what}")

    def stopping(self) -> None:
        self.query_one(".answer-figures", Static).update("stopping…")

    async def end(self, note: str, *, error: bool = False) -> None:
        await self._close()
        figures = self.query_one(".answer-figures", Static)
        figures.update(note)
        figures.set_class(error, "error")
        if not self.text:
            self.query_one(".answer-body").display = False

    @property
    def streaming(self) -> bool:
        return self._stream is not None

    def last_code_block(self) -> str | None:
        blocks = _FENCE.findall(self.text)
        return blocks[-1].rstrip("\n") if blocks else None
