"""`assistant tools list`: each configured MCP server, whether it started, and its tools with their descriptions."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("tools", help="MCP servers and their tools: `tools list`")
    p.add_argument("action", choices=["list"], nargs="?", default="list")
    p.add_argument("--json", action="store_true", help="print the servers and tools as JSON")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Starts every configured server, lists its tools, stops it; 1 when a server did not start."""
    import asyncio

    from assistant.compose import load
    from assistant.core.textsafe import to_json
    from assistant.core.tools import is_trusted
    from assistant.tools import inventory
    from assistant.tools.display import inventory_lines

    settings = load().settings.mcp
    statuses = asyncio.run(inventory(settings))
    if args.json:
        data = [{"server": s.name, "transport": s.transport, "started": s.started, "reason": s.reason,
                 "tools": [{"name": t.name, "description": t.description, "input_schema": dict(t.input_schema),
                            "trusted": is_trusted(settings.servers[s.name].trusted_tools, t.name)} for t in s.tools]}
                for s in statuses]
        sys.stdout.write(to_json(data, indent=1) + "\n")
    else:
        trusted = {name: server.trusted_tools for name, server in settings.servers.items()}
        for line in inventory_lines(statuses, trusted):
            print(line)
    return 1 if any(not s.started for s in statuses) else 0
