"""`assistant models` and `assistant config`."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import asdict
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("models", help="list every model and whether it can answer now")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=run_models)
    c = sub.add_parser("config", help="show where the config file is, or every setting with its default")
    c.add_argument("action", choices=["path", "defaults", "show"], nargs="?", default="path")
    c.set_defaults(handler=run_config)


def run_models(args: argparse.Namespace) -> int:
    from assistant.cli.context import load, open_engine

    paths, settings = load()
    engine: Any = open_engine(paths, settings)

    async def go() -> dict[str, Any]:
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
        for m in models:
            mark = "✓" if m.available else "✗"
            price = engine.prices.price(m.ref)
            cost = "free" if m.ref.local else (f"${price.input_per_token * 1e6:.2f}/${price.output_per_token * 1e6:.2f} per M" if price else "price unknown")
            print(f"  {mark} {str(m.ref):<40} {cost:<22} {m.size:>8}  {m.detail}")
    return 0


def run_config(args: argparse.Namespace) -> int:
    from assistant.config import default_config_text
    from assistant.paths import resolve_paths

    paths = resolve_paths()
    if args.action == "path":
        print(paths.config_file)
    elif args.action == "defaults":
        print(default_config_text())
    else:
        from assistant.cli.context import load

        _, settings = load()
        print(json.dumps(asdict(settings), indent=1, default=str))
    return 0
