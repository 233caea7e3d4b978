"""`assistant models` and `assistant config`."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from assistant.core.textsafe import for_terminal

if TYPE_CHECKING:
    from assistant.core.types import ModelInfo


def register(sub: Any) -> None:
    p = sub.add_parser("models", help="list every model and whether it can answer now")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=run_models)
    c = sub.add_parser("config", help="show where the config file is, or every setting with its default")
    c.add_argument("action", choices=["path", "defaults", "show"], nargs="?", default="path")
    c.set_defaults(handler=run_config)


def run_models(args: argparse.Namespace) -> int:
    import asyncio

    from assistant.compose import build_engine, load

    engine = build_engine(load())
    for note in engine.notices:
        print(f"assistant: {for_terminal(note)}", file=sys.stderr)

    async def go() -> dict[str, list[ModelInfo]]:
        try:
            return await engine.list_models()
        finally:
            await engine.aclose()

    groups = asyncio.run(go())
    if args.json:
        data = {name: [{**asdict(m), "ref": str(m.ref)} for m in models] for name, models in groups.items()}
        sys.stdout.write(json.dumps(data, indent=1) + "\n")
        return 0
    for name, models in groups.items():
        print(name)
        several = len({m.where for m in models}) > 1  # several servers (Ollama hosts): a heading for each
        where = None
        for m in models:
            if several and m.where != where:
                where = m.where
                print(f"  @ {for_terminal(where)}")
            mark = "✓" if m.available else "✗"
            price = engine.price(m.ref)
            if price is None:
                cost = "price unknown"
            elif not price.input_per_token and not price.output_per_token:
                cost = "free"
            else:
                cost = f"${price.input_per_token * 1e6:.2f}/${price.output_per_token * 1e6:.2f} per M"
            indent = "    " if several else "  "
            print(f"{indent}{mark} {for_terminal(str(m.ref)):<40} {cost:<22} {m.size:>8}  {for_terminal(m.detail)}")
    return 0


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
