"""`assistant db check | recover FILE`: check the database, and copy what can be read from a damaged copy."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from assistant.cli.common import engine
from assistant.core.textsafe import for_terminal


def register(sub: Any) -> None:
    p = sub.add_parser("db", help="check the database; recover rows from a damaged copy kept aside")
    actions = p.add_subparsers(dest="db_action", metavar="ACTION")
    c = actions.add_parser("check", help="a full integrity check, and the damaged copies still kept aside")
    c.set_defaults(handler=run_check)
    r = actions.add_parser("recover", help="copy what can still be read from a damaged copy into your history")
    r.add_argument("file", help="the damaged copy, e.g. data/assistant.db.corrupt-20260101-120000")
    r.set_defaults(handler=run_recover)
    p.set_defaults(handler=lambda args: p.print_help() or 0)


def run_check(args: argparse.Namespace) -> int:
    with engine() as opened:
        found, kept = opened.queries.check()
    if found:
        print(f"The database is damaged: {for_terminal(found[0])}", file=sys.stderr)
        print("Run any command again: the file is kept aside, a fresh one started, and what can be read copied into it.",
              file=sys.stderr)
        return 1
    print(f"The database is sound{'' if kept else '; no damaged copies are kept aside'}.")
    for path in kept:
        print(f"Kept aside: {for_terminal(path)}  (`assistant db recover {for_terminal(path)}`, then delete it)")
    return 0


def run_recover(args: argparse.Namespace) -> int:
    with engine() as opened:
        report = opened.queries.recover(args.file)
    source = for_terminal(report.source)
    if not report.readable:
        print(f"Nothing could be read from {source}; `sqlite3 {source} .recover | sqlite3 rescued.db` may still find "
              "rows (then run `assistant db recover rescued.db`).", file=sys.stderr)
        return 1
    copied = report.summary() if report.conversations or report.messages else "nothing new to copy (everything readable is already in your history)"
    print(f"From {source}: {copied}; {report.calls} cost records and {report.cached} cached answers.")
    if report.renamed_to:
        print(f"It is now {for_terminal(report.renamed_to)} and no longer announced; delete it when you no longer need it.")
    return 0
