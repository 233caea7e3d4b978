"""`assistant keys`: set, list and delete API keys in the OS keyring."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from assistant.core.textsafe import for_terminal


def register(sub: Any) -> None:
    p = sub.add_parser("keys", help="manage API keys (stored in the OS keyring)")
    ks = p.add_subparsers(dest="action", metavar="ACTION")
    sp = ks.add_parser("set", help="store a key (asked without echo, or read from stdin)")
    sp.add_argument("provider", help="a provider that takes a key (see `assistant keys list`)")
    ks.add_parser("list", help="which keys are present and where they come from")
    dp = ks.add_parser("delete", help="remove a key from the keyring")
    dp.add_argument("provider")
    p.set_defaults(handler=run)


def _read_key(provider: str) -> str:
    if sys.stdin.isatty():
        import getpass

        from assistant.compose import extra_secret_labels

        labels = extra_secret_labels()
        what = labels[provider].split(":")[0] if provider in labels else f"{provider} API key"
        return getpass.getpass(f"{what} (input hidden): ")
    return sys.stdin.readline()


def run(args: argparse.Namespace) -> int:
    from assistant.compose import make_keys
    from assistant.core.errors import UsageError

    store = make_keys()
    if args.action in (None, "list"):
        width = max(10, *(len(n) for n in store.names))
        for provider in store.names:
            status = store.status(provider)
            if status.present:
                # The key's last characters come from outside (a pasted key, an environment variable).
                print(f"{provider:<{width}} set      …{for_terminal(status.last4 or '')}  from {status.source}")
            else:
                print(f"{provider:<{width}} not set  (run `assistant keys set {provider}` or set "
                      f"{store.env_vars[provider][0]})")
        return 0
    if args.action == "set":
        store.require_keyring(args.provider)  # refuse before the user pastes a key that cannot be kept
        status = store.set(args.provider, _read_key(args.provider))
        print(f"Stored the {args.provider} key (…{status.last4}) in the OS keyring.", file=sys.stderr)
        env = store.status(args.provider)
        if env.source and env.source.startswith("environment"):
            print(f"Note: {env.source} is set and takes precedence over the keyring.", file=sys.stderr)
        return 0
    if args.action == "delete":
        if store.delete(args.provider):
            print(f"Deleted the {args.provider} key from the keyring.", file=sys.stderr)
            env = store.status(args.provider)
            if env.source and env.source.startswith("environment"):
                print(f"Note: {env.source} is still set and will be used.", file=sys.stderr)
            return 0
        raise UsageError(f"There was no {args.provider} key in the keyring.")
    return 2
