"""`assistant bench`: measure this machine and print each figure next to its target."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("bench", help="measure start-up, cache, engine overhead, embedded speed, storage and memory")
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    p.add_argument("--quick", action="store_true", help="small sizes and one round each: a smoke run, not real figures")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from assistant.bench.runner import main

    return main(quick=args.quick, as_json=args.json)
