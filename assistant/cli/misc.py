"""`assistant config`: where the file is, every setting with its default, or the settings in effect."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from typing import Any


def register(sub: Any) -> None:
    c = sub.add_parser("config", help="show where the config file is, or every setting with its default")
    c.add_argument("action", choices=["path", "defaults", "show"], nargs="?", default="path")
    c.set_defaults(handler=run_config)


def run_config(args: argparse.Namespace) -> int:
    from assistant.compose import config_defaults
    from assistant.core.paths import resolve_paths

    if args.action == "path":
        print(resolve_paths().config_file)
    elif args.action == "defaults":
        print(config_defaults())
    else:
        from assistant.compose import load

        settings = load().settings
        data = asdict(settings)
        data["providers"] = {name: asdict(section) for name, section in settings.providers.items()}
        for server in data["mcp"]["servers"].values():  # an MCP server's env may hold its token: names only
            server["env"] = {k: v if v.startswith("${") and v.endswith("}") else "(set)" for k, v in server["env"].items()}
        print(json.dumps(data, indent=1, default=str))
    return 0
