#!/usr/bin/env bash
# Run a command inside a private D-Bus session with an unlocked gnome-keyring (a real Secret Service).
# Without dbus-run-session or gnome-keyring the command still runs; keyring tests then skip with a reason.
set -euo pipefail
if [ -z "${ASSISTANT_IN_KEYRING_SESSION:-}" ] && command -v dbus-run-session >/dev/null && command -v gnome-keyring-daemon >/dev/null; then
  export ASSISTANT_IN_KEYRING_SESSION=1
  exec dbus-run-session -- bash "$0" "$@"
fi
if [ -n "${ASSISTANT_IN_KEYRING_SESSION:-}" ]; then
  # A throwaway keyring: its password only needs to unlock it for this session.
  export XDG_DATA_HOME="$(mktemp -d)"
  eval "$(printf 'ci-keyring' | gnome-keyring-daemon --unlock --components=secrets 2>/dev/null)" || true
  export ASSISTANT_REAL_KEYRING=1
fi
exec "$@"
