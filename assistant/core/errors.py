"""The one exception tree: every error carries a user-facing message, a title and a kind."""

from __future__ import annotations


class AssistantError(Exception):
    """Root of every error the user may see; `message` says what happened and how to fix it."""

    title = "Error"
    kind = "error"
    retryable = False
    # Errors that mean "this provider cannot answer now" let the router try the next candidate.
    falls_back = False

    def __init__(self, message: str, *, title: str | None = None) -> None:
        super().__init__(message)
        self.message = message or "An unknown error occurred."
        if title:
            self.title = title

    def __str__(self) -> str:
        return self.message


class ConfigError(AssistantError):
    title = "Configuration error"
    kind = "config"


class UsageError(AssistantError):
    """Bad input from the user: empty prompt, unknown model name, bad option."""

    title = "Cannot do that"
    kind = "usage"


class StorageError(AssistantError):
    title = "Database error"
    kind = "storage"


class DatabaseLocked(StorageError):
    title = "Database busy"
    kind = "locked"


class DiskFull(StorageError):
    """Nothing can be written; what is stored stays intact and readable."""

    title = "Disk full"
    kind = "disk_full"


class DatabaseReadOnly(StorageError):
    title = "Database read-only"
    kind = "read_only"


class DatabaseDamaged(StorageError):
    """The file itself is damaged (not merely unwritable): it is kept aside, never written into."""

    title = "Database damaged"
    kind = "damaged"


class KeyringUnavailable(AssistantError):
    title = "No keyring"
    kind = "keyring"


class ProviderError(AssistantError):
    """Something went wrong talking to a model provider."""

    title = "Provider error"
    kind = "provider"

    def __init__(
        self, message: str, *, provider: str = "", title: str | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, title=title)
        self.provider = provider
        # Seconds the server asked us to wait (Retry-After); only rate limits and overloads carry one.
        self.retry_after = retry_after


class ProviderUnavailable(ProviderError):
    """The provider cannot be reached at all (not running, connection refused, not installed)."""

    title = "Provider unavailable"
    kind = "unavailable"
    retryable = False
    falls_back = True


class AuthError(ProviderError):
    title = "API key rejected"
    kind = "auth"
    falls_back = True


class ModelNotFound(ProviderError):
    title = "Model not found"
    kind = "model_not_found"
    falls_back = True


class BadRequest(ProviderError):
    title = "Request rejected"
    kind = "bad_request"


class ToolsUnsupported(BadRequest):
    """The model cannot call tools (Ollama: "does not support tools"): another model may answer."""

    title = "No tool support"
    kind = "tools_unsupported"
    falls_back = True


class RateLimited(ProviderError):
    title = "Rate limited"
    kind = "rate_limited"
    retryable = True
    falls_back = True


class Overloaded(ProviderError):
    """Server errors (500, 502, 503, 529, mid-stream overloaded_error): worth another try."""

    title = "Provider overloaded"
    kind = "overloaded"
    retryable = True
    falls_back = True


class ProviderTimeout(ProviderError):
    title = "Timed out"
    kind = "timeout"
    retryable = True
    falls_back = True


class ConnectionLost(ProviderError):
    """The connection dropped or the stream was cut before the answer finished."""

    title = "Connection lost"
    kind = "connection"
    retryable = True
    falls_back = True


class MalformedResponse(ProviderError):
    title = "Unreadable response"
    kind = "malformed"
    retryable = True
    falls_back = True


class BudgetExceeded(ProviderError):
    title = "Budget reached"
    kind = "budget"
    falls_back = True


class Cancelled(AssistantError):
    title = "Stopped"
    kind = "cancelled"
