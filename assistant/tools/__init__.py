"""Tools through MCP servers: the hub that starts them and runs calls, consent, and how calls are shown.

Importing this package is cheap: the `mcp` SDK is imported only when a ToolHub starts a configured server. The
values every layer shares (ToolSpec, ToolCall, ToolResult) are in assistant.core.tools; each provider writes them
in its own wire format.
"""

from assistant.tools.consent import Approver, ConsentPolicy
from assistant.tools.hub import ToolHub, inventory
from assistant.tools.values import Decision, ServerStatus

__all__ = ["Approver", "ConsentPolicy", "Decision", "ServerStatus", "ToolHub", "inventory"]
