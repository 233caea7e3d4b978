"""`assistant desktop install|uninstall`: the app launcher in the desktop's menu (Linux)."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("desktop", help="add or remove the app launcher in your desktop's menu (Linux)")
    p.add_argument("action", choices=["install", "uninstall"],
                   help="install writes a .desktop entry and icons under $XDG_DATA_HOME; uninstall removes them")
    p.set_defaults(handler=run_desktop)


def run_desktop(args: argparse.Namespace) -> int:
    from assistant import desktop

    if args.action == "install":
        launcher = desktop.install()
        for path in launcher.files:
            print(f"wrote {path}")
        print("Assistant is in your applications menu; it opens in your terminal.")
        return 0
    removed = desktop.uninstall()
    for path in removed:
        print(f"removed {path}")
    if not removed:
        print("No launcher was installed; nothing to remove.")
    return 0
