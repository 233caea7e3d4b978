"""What the cloud providers share: SSE streaming over the shared client, Retry-After parsing, error translation."""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from assistant.core.config import setting
from assistant.core.errors import (
    AuthError,
    BadRequest,
    ConnectionLost,
    MalformedResponse,
    ModelNotFound,
    Overloaded,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
)
from assistant.core.textsafe import for_terminal, one_line
from assistant.core.tools import ToolCall, ToolCalls, ToolSpec
from assistant.core.types import ModelInfo, ModelRef, ProviderRequest, Usage
from assistant.providers.base import Availability, Chunk, Provider

if TYPE_CHECKING:
    import httpx

# A Retry-After beyond a day is a quota reset, not a pause worth waiting for; callers fall back instead.
_MAX_RETRY_AFTER = 86_400.0


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds the server asks us to wait: retry-after-ms first, then Retry-After as seconds or an HTTP-date."""
    lowered = {k.lower(): v for k, v in headers.items()}
    raw_ms = lowered.get("retry-after-ms", "").strip()
    if raw_ms:
        try:
            value = float(raw_ms) / 1000
        except ValueError:
            value = math.nan
        if 0 < value <= _MAX_RETRY_AFTER:
            return value
    raw = lowered.get("retry-after", "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        try:
            from email.utils import parsedate_to_datetime  # rare: only a Retry-After given as a date

            value = parsedate_to_datetime(raw).timestamp() - (time.time() if now is None else now)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    return value if 0 < value <= _MAX_RETRY_AFTER else None


def _duration(text: str) -> float | None:
    """'1.574s', '6ms', '37s' (Google's RetryInfo and OpenAI's "try again in ..." hints) as seconds."""
    text = text.strip().rstrip(".")
    try:
        if text.endswith("ms"):
            return float(text[:-2]) / 1000
        if text.endswith("s"):
            return float(text[:-1])
    except ValueError:
        return None
    return None


def retry_hint(message: str, details: Any = None) -> float | None:
    """A wait suggested in the body when no header gives one (OpenAI's text, Gemini's RetryInfo)."""
    for item in details if isinstance(details, list) else ():
        if isinstance(item, dict) and str(item.get("@type", "")).endswith("RetryInfo"):
            found = _duration(str(item.get("retryDelay", "")))
            if found is not None:
                return found
    marker = "try again in "
    at = message.lower().find(marker)
    if at >= 0:
        return _duration(message[at + len(marker):].split()[0] if message[at + len(marker):].split() else "")
    return None


@dataclass(frozen=True)
class ErrorInfo:
    """What a provider's error body says, in the provider's own words."""

    status: int
    code: str = ""  # e.g. rate_limit_error, insufficient_quota, RESOURCE_EXHAUSTED
    message: str = ""
    details: Any = None
    in_stream: bool = False  # an error event inside a 200 response: there is no error status to quote


@dataclass(frozen=True)
class CloudSettings:
    base_url: str = setting("", "API base URL (for gateways and compatible servers); empty uses the provider's own.")
    model: str = setting("", "Default model for this provider, used when the router picks it.")


def safe_path(model: str) -> str:
    """A model name as one URL path segment: it can never climb out of or add to the endpoint's path."""
    return quote(model, safe="")


class CloudProvider(Provider):
    """A cloud API reached over the shared httpx client, streaming Server-Sent Events."""

    default_base_url = ""

    @property
    def label(self) -> str:
        return self.spec.label

    @property
    def env_var(self) -> str:
        return self.spec.key_env[0]

    @property
    def base_url_env(self) -> str:
        return self.spec.env.get("base_url", ("base_url",))[0]

    @property
    def base_url(self) -> str:
        return str(self.context.section.base_url or self.default_base_url).rstrip("/")

    async def availability(self) -> Availability:
        if self.context.get_key():
            return Availability(True, "key present")
        return Availability(False, f"no {self.label} key: {self.how_to_set_key()}")

    async def list_models(self) -> list[ModelInfo]:
        """The models the price table knows for this provider (asking the API would need a key and a request)."""
        has_key = bool(self.context.get_key())
        detail = "key present" if has_key else f"no key: {self.how_to_set_key()}"
        names = self.context.catalog() or [m for m in (self.default_model(),) if m]
        return [ModelInfo(ModelRef(self.name, m), has_key, detail) for m in names]

    def how_to_set_key(self) -> str:
        names = " or ".join(self.spec.key_env)
        return f"press F4 in the app, run `assistant keys set {self.name}`, or set {names}"

    def require_key(self) -> str:
        key = self.context.get_key()
        if not key:
            raise AuthError(f"No {self.label} API key; {self.how_to_set_key()}.", provider=self.name, title="No API key")
        return key

    # what each provider supplies ------------------------------------------------------------------
    def endpoint(self, request: ProviderRequest) -> str:
        raise NotImplementedError

    def headers(self, key: str) -> dict[str, str]:
        raise NotImplementedError

    def body(self, request: ProviderRequest) -> dict[str, Any]:
        raise NotImplementedError

    def error_info(self, status: int, data: Any) -> ErrorInfo:
        raise NotImplementedError

    def parser(self, model: str, key: str) -> StreamParser:
        raise NotImplementedError

    # errors --------------------------------------------------------------------------------------
    def translate(self, info: ErrorInfo, model: str, key: str | None, retry_after: float | None = None) -> ProviderError:
        """Map a status and error body to our error types; messages never carry the key."""
        said = one_line(info.message, key)
        code = info.code.lower()
        name = self.name
        status = f"{info.code or 'error'} in the answer stream" if info.in_stream else f"HTTP {info.status}"
        if info.status in (401, 403) or "api key not valid" in said.lower() or code in ("api_key_invalid", "authentication_error", "permission_error"):
            # The provider's own text may quote part of the key, so it is not repeated here.
            return AuthError(f"{self.label} rejected the API key ({status}); set a valid one: {self.how_to_set_key()}.", provider=name)
        if info.status == 404 or code in ("not_found_error", "model_not_found", "not_found"):
            return ModelNotFound(f"{self.label} has no model '{model}' (or this key cannot use it); choose another with -m, see `assistant models`.", provider=name)
        wait = retry_after if retry_after is not None else retry_hint(info.message, info.details)
        if info.status == 429 or code in ("rate_limit_error", "rate_limit_exceeded", "resource_exhausted"):
            error = RateLimited(f"{self.label} is rate limiting requests ({said or status}).", provider=name, retry_after=wait)
            if code == "insufficient_quota":
                error.message = f"{self.label} says the account has no quota left ({said}); check billing, or use another model."
                error.retryable = False  # waiting will not add credit
            return error
        if info.status == 408:
            return ProviderTimeout(f"{self.label} timed out handling the request; try again.", provider=name)
        if info.status >= 500 or code in ("overloaded_error", "api_error", "server_error", "unavailable", "internal"):
            return Overloaded(f"{self.label} is overloaded or failing ({status}{': ' + said if said else ''}).", provider=name, retry_after=wait)
        if 400 <= info.status < 500:
            return BadRequest(f"{self.label} rejected the request: {said or status}", provider=name)
        return ProviderError(f"{self.label} failed: {said or status}", provider=name)

    def transport_error(self, exc: BaseException) -> ProviderError:
        """httpx and SSE failures as our types, each with a message that is never empty."""
        import httpx

        # Only the host is ever shown: a base URL may carry credentials for a proxy.
        host = self.base_url.split("://")[-1].split("/")[0].rsplit("@", 1)[-1]
        if isinstance(exc, ProviderError):
            return exc
        if isinstance(exc, httpx.ConnectTimeout):
            return ProviderTimeout(f"Connecting to {self.label} at {host} timed out; check your network.", provider=self.name)
        if isinstance(exc, httpx.TimeoutException):
            return ProviderTimeout(f"{self.label} at {host} stopped sending for longer than network.read_timeout.", provider=self.name)
        if isinstance(exc, httpx.ConnectError):
            return ProviderUnavailable(f"Cannot reach {self.label} at {host}; check your network or {self.base_url_env}.", provider=self.name)
        if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError, httpx.CloseError)):
            return ConnectionLost(f"The connection to {self.label} dropped before the answer finished.", provider=self.name)
        if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
            return ProviderUnavailable(f"The {self.label} base URL (host '{for_terminal(host)}') is not a valid http(s) URL; fix {self.base_url_env} or base_url under [{self.name}] in config.toml.", provider=self.name)
        if exc.__class__.__name__ == "SSEError" or isinstance(exc, (ValueError, KeyError, TypeError)):
            return MalformedResponse(f"{self.label} sent a response that is not a readable event stream.", provider=self.name)
        if isinstance(exc, httpx.HTTPError):
            return ConnectionLost(f"Talking to {self.label} failed ({exc.__class__.__name__}).", provider=self.name)
        return ProviderError(f"{self.label} failed unexpectedly ({exc.__class__.__name__}).", provider=self.name)

    async def _raise_for_status(self, response: httpx.Response, model: str, key: str) -> None:
        if response.status_code < 400:
            return
        raw = await response.aread()
        try:
            data: Any = json.loads(raw)
        except ValueError:
            data = raw.decode("utf-8", "replace")
        info = self.error_info(response.status_code, data)
        raise self.translate(info, model, key, parse_retry_after(response.headers))

    # streaming ----------------------------------------------------------------------------------
    async def stream(self, request: ProviderRequest) -> AsyncIterator[Chunk]:
        from httpx_sse import aconnect_sse

        key = self.require_key()
        model = request.model.model
        parser = self.parser(model, key)
        parser.tools = request.tools
        try:
            async with aconnect_sse(self.context.http_client(), "POST", self.endpoint(request),
                                    headers=self.headers(key), json=self.body(request)) as source:
                await self._raise_for_status(source.response, model, key)
                async for event, unterminated in _events(source.response):
                    try:
                        texts = parser.feed(event.event, event.data)
                    except MalformedResponse:
                        if unterminated:  # half an event at the end: the connection was cut
                            break
                        raise
                    for text in texts:
                        yield text
                    if parser.finished:
                        break
        except ProviderError:
            raise
        except Exception as exc:
            raise self.transport_error(exc) from None
        if not parser.complete:
            raise ConnectionLost(f"{self.label}'s stream ended before the answer was finished.", provider=self.name)
        calls = parser.tool_calls()
        if calls:
            yield ToolCalls(calls)
        yield parser.usage()


async def _events(response: httpx.Response) -> AsyncIterator[tuple[Any, bool]]:
    """httpx-sse's decoder over the response lines, also dispatching a last event that lacks its blank line
    (the official SDKs accept that ending, and some servers and proxies send it)."""
    from httpx_sse import SSEError
    from httpx_sse._decoders import SSEDecoder

    if "text/event-stream" not in response.headers.get("content-type", ""):
        raise SSEError(f"expected an event stream, got {response.headers.get('content-type', 'no content type')!r}")
    decoder = SSEDecoder()
    async for line in response.aiter_lines():
        event = decoder.decode(line.rstrip("\r\n"))
        if event is not None:
            yield event, False
    last = decoder.decode("")
    if last is not None:
        yield last, True


class StreamParser:
    """Turns one provider's SSE events into text deltas; tracks usage and whether the answer finished."""

    def __init__(self, provider: CloudProvider, model: str, key: str) -> None:
        self.provider = provider
        self.model = model
        self._key = key  # only to scrub it from error text; never shown
        self.complete = False  # the provider's end-of-answer marker was seen
        self.finished = False  # nothing more will come: stop reading
        self.input_tokens: int | None = None
        self.output_tokens: int | None = None
        self.tools: tuple[ToolSpec, ...] = ()  # offered in the request: the model's calls are resolved against them

    def feed(self, event: str, data: str) -> list[str]:
        raise NotImplementedError

    def tool_calls(self) -> tuple[ToolCall, ...]:
        """The calls the model's turn ended with; () when it answered in text or was cut off mid-call."""
        return ()

    def usage(self) -> Usage:
        if self.input_tokens is None or self.output_tokens is None:
            return Usage(self.input_tokens or 0, self.output_tokens or 0, estimated=True)
        return Usage(self.input_tokens, self.output_tokens)

    def load(self, data: str) -> dict[str, Any] | None:
        """The event's JSON object; None for keep-alive blanks and anything that is not an object."""
        if not data.strip():
            return None
        try:
            value = json.loads(data)
        except ValueError:
            raise MalformedResponse(f"{self.provider.label} sent an event that is not JSON.", provider=self.provider.name) from None
        return value if isinstance(value, dict) else None

    def fail(self, status: int, data: Any) -> ProviderError:
        """An error delivered inside the stream after HTTP 200."""
        info = dataclasses.replace(self.provider.error_info(status, data), in_stream=True)
        return self.provider.translate(info, self.model, self._key)
