"""The HTTP connection layer under every API client: TLS trust, one connection pool per process, a hard call deadline.

Four things live here, apart from any API's shapes (`provisioner.paragon.client`, and the Microsoft Graph reader):

* **TLS trust.** `ssl_context` builds the context that verifies Paragon's certificate: the PEM file of
  ``paragon.ca_bundle`` when set, otherwise httpx's default (``httpx.create_ssl_context``, httpx 0.28), which
  reads ``SSL_CERT_FILE`` (a PEM file, via ``ssl.create_default_context(cafile=...)``) or else
  ``SSL_CERT_DIR`` (a c_rehash folder, ``capath=...``) from the environment, and otherwise certifi's bundle.
  Either file *replaces* the default store; it does not add to it. `certificate_failure` recognises a
  verification failure, which is never retried (a retry cannot make an untrusted certificate trusted).
* **One client per process.** Building an ``httpx.Client`` parses a CA bundle (about 13 ms) and opens new
  connections. `HttpClientPool` keeps one lazily created client per trust setting and proxy for the whole
  process, so calls reuse the SSL context and keep-alive connections. ``httpx.Client`` (httpcore's
  connection pool) is safe to share between threads, so the dynamic provider's gRPC threads share it.
* **Proxies.** A client given its own transport does not read proxy variables, so `proxy_for` does it:
  ``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``ALL_PROXY`` (any case, read by the standard library's
  ``urllib.request.getproxies_environment``) unless ``NO_PROXY`` names the host or one of its domains.
* **The deadline.** httpx timeouts bound each network operation (connect, one read, one write, waiting for
  a pooled connection), not a whole request: a server that trickles a byte per second never trips a 30 s
  read timeout. `deadline_scope` sets a per-thread deadline (a `contextvars.ContextVar`) around a request,
  and `DeadlineTransport` hands httpcore a network backend whose sockets shrink the timeout of every
  connect, TLS handshake, read and write to the time left before that deadline. Every blocking socket call
  of the request (status line, headers, body) therefore ends by the deadline, with the usual
  ``httpx.ConnectTimeout`` / ``ReadTimeout`` / ``WriteTimeout``; no extra thread is involved. (Name
  resolution, ``getaddrinfo``, cannot be bounded this way; it is bounded by the resolver's own timeouts.)
  The pieces used are public extension points: httpcore's ``NetworkBackend`` / ``NetworkStream`` interfaces
  and ``ConnectionPool(network_backend=...)``, and httpx's ``BaseTransport``.
"""

from __future__ import annotations

import os
import ssl
import threading
import time
import urllib.request
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Final
from urllib.parse import urlsplit

import httpcore
import httpx

DEFAULT_TIMEOUT: Final = httpx.Timeout(30.0, connect=5.0)
"""Per-operation timeouts in seconds: 5 s to connect, 30 s for one read/write/pool wait."""
CA_ENV_VARS: Final = ("SSL_CERT_FILE", "SSL_CERT_DIR")
"""Environment variables httpx reads for the default trust store (file first, then folder)."""

_DEADLINE: ContextVar[float | None] = ContextVar("paragon_request_deadline", default=None)


@contextmanager
def deadline_scope(seconds: float) -> Iterator[None]:
    """Within the block, every socket operation of a `DeadlineTransport` ends within ``seconds`` from now.

    Per thread (a context variable): concurrent calls on other threads keep their own deadlines.
    """
    token = _DEADLINE.set(time.monotonic() + max(0.0, seconds))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def _bounded(timeout: float | None, expired: type[Exception]) -> float | None:
    """``timeout`` shrunk to the time left before this thread's deadline; raises ``expired`` at the deadline."""
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise expired("the call's deadline passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every blocking operation ends by the thread's deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, bounded))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's own synchronous backend, with streams that honour the thread's deadline."""

    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.connect_tcp(host, port, bounded, local_address, socket_options))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.connect_unix_socket(path, bounded, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


@contextmanager
def _httpx_errors(request: httpx.Request) -> Iterator[None]:
    """Re-raise httpcore's exceptions as the httpx exceptions of the same name (as httpx's own transport does)."""
    try:
        yield
    except httpcore.UnsupportedProtocol as err:
        raise httpx.UnsupportedProtocol(str(err), request=request) from err
    except (httpcore.TimeoutException, httpcore.NetworkError, httpcore.ProtocolError, httpcore.ProxyError) as err:
        mapped = getattr(httpx, type(err).__name__, None)
        if not (isinstance(mapped, type) and issubclass(mapped, httpx.TransportError)):
            mapped = httpx.TransportError
        raise mapped(str(err), request=request) from err


class _ResponseStream(httpx.SyncByteStream):
    def __init__(self, inner: Iterable[bytes], request: httpx.Request) -> None:
        self._inner = inner
        self._request = request

    def __iter__(self) -> Iterator[bytes]:
        with _httpx_errors(self._request):
            yield from self._inner

    def close(self) -> None:
        close = getattr(self._inner, "close", None)
        if close is not None:
            close()


class DeadlineTransport(httpx.BaseTransport):
    """An HTTP/1.1 transport (httpcore connection pool) whose socket waits end by `deadline_scope`'s deadline.

    Args:
        ssl_context: Certificate trust for https (`ssl_context`).
        proxy: An ``http://`` or ``https://`` proxy URL to send every request through, or None.
        limits: Connection pool limits.

    Raises:
        ValueError: The proxy is not an http(s) proxy (SOCKS is not supported).
    """

    def __init__(
        self, ssl_context: ssl.SSLContext, proxy: str | None = None, limits: httpx.Limits | None = None
    ) -> None:
        limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0)
        backend = _DeadlineBackend()
        self._pool: httpcore.ConnectionPool
        if proxy is None:
            self._pool = httpcore.ConnectionPool(
                ssl_context=ssl_context,
                max_connections=limits.max_connections,
                max_keepalive_connections=limits.max_keepalive_connections,
                keepalive_expiry=limits.keepalive_expiry,
                network_backend=backend,
            )
            return
        try:  # the proxy URL may hold a user name and password: never echo it
            via = httpx.Proxy(proxy)
        except httpx.InvalidURL as err:
            raise ValueError(f"the proxy URL is not usable ({err}). Fix: write http://host:port") from None
        except ValueError:
            raise ValueError("the proxy URL has no http:// or https:// scheme. Fix: write http://host:port") from None
        if via.url.scheme not in ("http", "https"):
            raise ValueError(f"a {via.url.scheme}:// proxy is not supported. Fix: use an http:// or https:// proxy")
        self._pool = httpcore.HTTPProxy(
            proxy_url=httpcore.URL(
                scheme=via.url.raw_scheme, host=via.url.raw_host, port=via.url.port, target=via.url.raw_path
            ),
            proxy_auth=via.raw_auth,
            proxy_headers=via.headers.raw,
            ssl_context=ssl_context,
            proxy_ssl_context=via.ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=backend,
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` through the pool; the response body streams lazily (still under the deadline)."""
        assert isinstance(request.stream, httpx.SyncByteStream)
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _httpx_errors(request):
            response = self._pool.handle_request(core_request)
        assert isinstance(response.stream, Iterable)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_ResponseStream(response.stream, request),
            extensions=response.extensions,
        )

    def close(self) -> None:
        """Close every pooled connection."""
        self._pool.close()


def ssl_context(ca_bundle: str | None = None) -> ssl.SSLContext:
    """The TLS context that verifies Paragon's certificate.

    Args:
        ca_bundle: A PEM file of CA certificates (``paragon.ca_bundle``); None for httpx's default, which honours
            ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` and otherwise uses certifi.

    Raises:
        OSError: The file cannot be read.
        ssl.SSLError: It holds no PEM certificate.
    """
    if ca_bundle:
        return ssl.create_default_context(cafile=ca_bundle)
    return httpx.create_ssl_context()


def proxy_for(url: str) -> str | None:
    """The proxy the environment names for ``url`` (``HTTPS_PROXY``, ``HTTP_PROXY``, ``ALL_PROXY``).

    None for a direct connection, also when ``NO_PROXY`` exempts the host.
    """
    proxies = urllib.request.getproxies_environment()
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if not host or _exempt(host, proxies.get("no", "")):
        return None
    return proxies.get(parts.scheme) or proxies.get("all") or None


def _exempt(host: str, no_proxy: str) -> bool:
    """True when a ``NO_PROXY`` entry is ``*``, ``host`` itself, or a domain ``host`` is in (``corp.example``
    or ``.corp.example``); a ``:port`` on an entry is ignored."""
    for entry in no_proxy.split(","):
        name = entry.strip().lower()
        if name.startswith("[") and "]" in name:
            name = name[1 : name.index("]")]
        elif name.count(":") == 1:
            name = name.split(":", 1)[0]
        name = name.lstrip(".")
        if name == "*" or (name and (host == name or host.endswith("." + name))):
            return True
    return False


def new_http_client(
    ca_bundle: str | None = None, timeout: httpx.Timeout = DEFAULT_TIMEOUT, proxy: str | None = None
) -> httpx.Client:
    """An ``httpx.Client`` on a `DeadlineTransport`, no redirects followed, no base URL (send absolute URLs).

    Raises:
        OSError, ssl.SSLError: As `ssl_context`. ValueError: As `DeadlineTransport`.
    """
    transport = DeadlineTransport(ssl_context(ca_bundle), proxy=proxy)
    return httpx.Client(transport=transport, timeout=timeout, follow_redirects=False)


class HttpClientPool:
    """Process-wide HTTP clients, created on first use, one per trust setting and proxy; thread-safe.

    The key is the CA bundle path (or, without one, the values of `CA_ENV_VARS`) and the proxy `proxy_for`
    finds for the base URL, read each time a client is asked for, so a changed environment gets a client
    that follows it. Lives in a module global next to the session cache
    (``provisioner.paragon.resource.PROCESS_HTTP``), never on a pickled object.
    """

    def __init__(self, timeout: httpx.Timeout = DEFAULT_TIMEOUT) -> None:
        self._lock = threading.Lock()
        self._timeout = timeout
        self._clients: dict[tuple[str | None, ...], httpx.Client] = {}

    def get(self, base_url: str, ca_bundle: str | None = None) -> httpx.Client:
        """The shared client for requests to ``base_url`` trusting ``ca_bundle`` (None: the default store).

        Raises:
            OSError, ssl.SSLError: As `ssl_context`, on first use of an unreadable bundle.
            ValueError: As `DeadlineTransport`, for an unsupported proxy.
        """
        trust = (ca_bundle,) if ca_bundle else (None, *(os.environ.get(name) for name in CA_ENV_VARS))
        proxy = proxy_for(base_url)
        key = (*trust, proxy)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = self._clients[key] = new_http_client(ca_bundle, self._timeout, proxy)
            return client

    def __len__(self) -> int:
        with self._lock:
            return len(self._clients)

    def close(self) -> None:
        """Close every client (tests; the provider process simply exits)."""
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()


def certificate_failure(err: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate verification error behind ``err`` (following ``__cause__``/``__context__``), if any."""
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLCertVerificationError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


__all__ = [
    "CA_ENV_VARS",
    "DEFAULT_TIMEOUT",
    "DeadlineTransport",
    "HttpClientPool",
    "certificate_failure",
    "deadline_scope",
    "new_http_client",
    "proxy_for",
    "ssl_context",
]


def capped_timeout(timeout: httpx.Timeout, left: float) -> httpx.Timeout:
    """``timeout``'s per-operation limits, none longer than the ``left`` seconds of a call's budget (an unset
    limit becomes ``left``): what one attempt of a call with a deadline may wait for each network operation."""

    def cap(value: float | None) -> float:
        return left if value is None else min(value, left)

    return httpx.Timeout(
        connect=cap(timeout.connect), read=cap(timeout.read), write=cap(timeout.write), pool=cap(timeout.pool)
    )
