"""The [team] settings checked, the server named without credentials, and failures said in one line."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from assistant.core.config import TeamSettings

SCHEMES = ("redis", "rediss", "unix")
# URL query options passed to redis-py: TLS trust and client certificates (and db for unix://), nothing else.
URL_OPTIONS = frozenset({"db", "ssl_ca_certs", "ssl_certfile", "ssl_keyfile", "ssl_cert_reqs", "ssl_check_hostname"})
_NAMESPACE = re.compile(r"[A-Za-z0-9._-]{1,64}")


def settings_problem(settings: TeamSettings) -> str | None:
    """One line saying what is wrong with the [team] settings and how to fix it, or None."""
    if not settings.cache_url:
        return None
    try:
        url = urlsplit(settings.cache_url)
        _ = url.port  # raises ValueError on a bad port
    except ValueError:  # not echoed: it may hold a password
        return "team.cache_url is not a URL (is the port a number?); write redis://host:6379/0."
    if url.scheme not in SCHEMES:
        return f"team.cache_url must start with redis://, rediss:// or unix://, not {url.scheme or 'nothing'}://."
    options = parse_qs(url.query)
    if url.password is not None or "password" in options:
        return "team.cache_url must not hold a password; store it with `assistant keys set team-password` instead."
    unknown = sorted(set(options) - URL_OPTIONS)
    if unknown:  # e.g. socket_timeout=30 would undo the millisecond timeouts
        return f"team.cache_url: unknown option {unknown[0]!r}; allowed: {', '.join(sorted(URL_OPTIONS))}."
    if url.scheme == "unix" and not url.path:
        return "team.cache_url needs a socket path: unix:///path/to/redis.sock."
    if url.scheme != "unix" and not url.hostname:
        return "team.cache_url needs a host: redis://host:6379/0."
    if url.scheme != "unix" and not re.fullmatch(r"/?\d*", url.path):
        return "team.cache_url ends in a database number: redis://host:6379/0."
    if not _NAMESPACE.fullmatch(settings.namespace):
        return f"team.namespace {settings.namespace!r} must be 1-64 letters, digits, dots, dashes or underscores."
    return None


def server_label(settings: TeamSettings) -> str:
    """The server without credentials, for status lines."""
    try:
        url = urlsplit(settings.cache_url)
        if url.scheme == "unix":
            return f"unix://{url.path}"
        db = url.path if url.path not in ("", "/") else "/0"
        return f"{url.scheme}://{url.hostname}:{url.port or 6379}{db}"
    except ValueError:
        return "(not a URL)"


def scrub(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if len(secret) >= 4:  # shorter ones would mangle every word (and servers never echo them anyway)
            text = text.replace(secret, "***")
    text = "".join(c if c.isprintable() else " " for c in text)
    return " ".join(text.split())[:200]


def classify(exc: BaseException) -> str:
    """auth, denied (ACL), (connect) timeout, full (OOM), refused (the server answered with an error), or down."""
    names = {c.__name__ for c in type(exc).__mro__}
    if names & {"AuthenticationError", "AuthenticationWrongNumberOfArgsError"}:
        return "auth"
    if names & {"AuthorizationError", "NoPermissionError"}:
        return "denied"
    if "TimeoutError" in names:
        return "connect timeout" if "connecting" in str(exc) else "timeout"  # redis-py: "Timeout connecting to server"
    if "OutOfMemoryError" in names:
        return "full"
    if "ResponseError" in names:
        return "refused"
    return "down"


def describe(kind: str, where: str, detail: str, settings: TeamSettings, *, writing: bool = False) -> str:
    """`detail` has already had the secrets scrubbed out."""
    if writing:
        why = "is full (maxmemory reached; use maxmemory-policy allkeys-lru)" if kind == "full" else \
            f"will not store answers ({detail})"
        return f"{where} {why}; sharing paused {settings.cooldown_s:g} s"
    return {
        "auth": f"auth failed at {where}: {detail}; check the team password (`assistant keys set team-password`)",
        "denied": f"{where} refused access ({detail}); check the team's ACL user and namespace",
        "timeout": f"{where} did not answer within {settings.read_timeout_ms:g} ms",
        "connect timeout": f"{where} took more than {settings.connect_timeout_ms:g} ms to connect",
    }.get(kind, f"cannot use {where}: {detail}")
