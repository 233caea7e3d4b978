"""One tool call inside an answer: a one-line title (call, outcome, who allowed it), its output collapsed below."""

from __future__ import annotations

from textual.widgets import Collapsible, Static

from assistant.core.tools import ToolCall, ToolResult
from assistant.tools.display import result_head, result_text, running_head


class ToolCallView(Collapsible):
    """Collapsed until opened: tool output is untrusted and can be long; it is shown sanitised, never as markup."""

    def __init__(self, call: ToolCall | None = None, result: ToolResult | None = None) -> None:
        title = result_head(result) if result is not None else running_head(call) if call is not None else "tool call"
        body = Static(result_text(result) if result is not None else "", classes="tool-output", markup=False)
        super().__init__(body, title=title, collapsed=True, classes="tool-call")
        self.call_id = call.id if call is not None else ""
        self.done = result is not None
        self.set_class(result is not None and not result.ok, "failed")

    def finish(self, result: ToolResult) -> None:
        self.done = True
        self.title = result_head(result)
        self.query_one(".tool-output", Static).update(result_text(result))
        self.set_class(not result.ok, "failed")
