"""Tools through MCP servers: values, settings, consent, the hub that runs calls, and each provider's wire format.

Importing this package is cheap: the `mcp` SDK is imported only when a ToolHub starts a configured server.
"""

from assistant.tools.consent import Approver, Choice, ConsentPolicy
from assistant.tools.hub import ToolHub, inventory
from assistant.tools.settings import (
    McpServerSettings,
    McpSettings,
    mcp_settings_from_mapping,
)
from assistant.tools.values import (
    Decision,
    ServerStatus,
    ToolCall,
    ToolResult,
    ToolSpec,
)

__all__ = ["Approver", "Choice", "ConsentPolicy", "Decision", "McpServerSettings", "McpSettings", "ServerStatus",
           "ToolCall", "ToolHub", "ToolResult", "ToolSpec", "inventory", "mcp_settings_from_mapping"]
