#!/usr/bin/env bash
# Run a command inside a private D-Bus session with an unlocked gnome-keyring (a real Secret Service).
# Without dbus-run-session or gnome-keyring the command still runs; keyring tests then skip with a reason.
set -euo pipefail
if [ -z "${ASSISTANT_IN_KEYRING_SESSION:-}" ] && command -v dbus-run-session >/dev/null && command -v gnome-keyring-daemon >/dev/null; then
  export ASSISTANT_IN_KEYRING_SESSION=1
  exec dbus-run-session -- bash "$0" "$@"
fi
if [ -n "${ASSISTANT_IN_KEYRING_SESSION:-}" ]; then
  # A throwaway keyring in a temporary data directory: the user's own keyring is never touched,
  # and its password only needs to unlock it for this session.
  keyring_home="$(mktemp -d)"
  trap 'rm -rf "$keyring_home"' EXIT
  export XDG_DATA_HOME="$keyring_home"
  eval "$(printf 'ci-keyring' | gnome-keyring-daemon --unlock --components=secrets 2>/dev/null)" || true
  export ASSISTANT_REAL_KEYRING=1
  # Not exec: the trap removes the throwaway keyring afterwards; the daemon exits with the D-Bus session.
  "$@"
  exit $?
fi
exec "$@"
