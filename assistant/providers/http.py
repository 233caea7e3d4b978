"""One shared httpx.AsyncClient per process: pooled, keep-alive, HTTP/2 when available, bounded timeouts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from assistant import __version__

if TYPE_CHECKING:
    import httpx

    from assistant.core.config import NetworkSettings

USER_AGENT = f"assistant/{__version__}"


def make_client(network: NetworkSettings, transport: httpx.AsyncBaseTransport | None = None) -> httpx.AsyncClient:
    import httpx

    try:
        import h2  # noqa: F401  (HTTP/2 is offered only when the h2 package is present)

        http2 = transport is None
    except ImportError:
        http2 = False
    timeout = httpx.Timeout(network.read_timeout, connect=network.connect_timeout, write=network.connect_timeout, pool=network.connect_timeout)
    limits = httpx.Limits(max_connections=20, max_keepalive_connections=10, keepalive_expiry=60)
    return httpx.AsyncClient(
        timeout=timeout, limits=limits, http2=http2, transport=transport, headers={"user-agent": USER_AGENT}
    )


class SharedClient:
    """Created on first use, so a cache hit or a local answer never imports httpx."""

    def __init__(self, network: NetworkSettings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.network = network
        self.transport = transport
        self._client: httpx.AsyncClient | None = None

    def __call__(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = make_client(self.network, self.transport)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
