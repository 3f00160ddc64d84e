"""Where a webhook may be delivered: public addresses only, unless WEBHOOK_ALLOW_PRIVATE_TARGETS.

An organization's admin chooses its endpoints' URLs, and a delivery's answer (its status and
the first 2 KB of its body) is shown back to that organization. Without a guard, an endpoint
at `http://169.254.169.254/latest/meta-data/`, `http://127.0.0.1:5432/` or a service on the
internal network would let a tenant probe and read what only the server can reach (SSRF).

The guard runs where the connection is made, on the address actually connected to: the host
name is resolved once, every address it gives that is not public (loopback, private, link-local,
shared, reserved, multicast, unspecified; an IPv4-mapped IPv6 address by its IPv4 one) is
dropped, and the socket connects to one of the remaining addresses, so a name that resolves to a
public address when checked and to a private one a moment later (DNS rebinding) cannot slip
through. HTTPS still verifies the certificate against the host name. Redirects are not followed
(`webhooks.services.post`). A delivery through a proxy from the environment (HTTP(S)_PROXY)
connects to the proxy, which then decides where it may go. An endpoint URL whose host is an
address literal or `localhost` is refused when it is saved (`check_url_host`).

WEBHOOK_ALLOW_PRIVATE_TARGETS (default: on with DEBUG, off otherwise) turns the guard off, for
development and for installations whose receivers are on the internal network.
"""

from __future__ import annotations

import contextlib
import contextvars
import http.client
import ipaddress
import logging
import socket
import threading
import time
import urllib.request

from django.conf import settings

logger = logging.getLogger("webhooks.egress")


class BlockedAddress(OSError):
    """The endpoint's host has no public address: nothing was sent."""


def allow_private() -> bool:
    return bool(getattr(settings, "WEBHOOK_ALLOW_PRIVATE_TARGETS", False))


def is_public(address: str) -> bool:
    """Whether an IP address (text) is one the internet routes to this host's peers."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone ("%eth0") is never public
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_url_host(hostname: str) -> str | None:
    """Why an endpoint's host cannot be saved (an address that is not public, or localhost), or
    None. A host name is resolved only when a delivery connects."""
    if allow_private():
        return None
    name = hostname.rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return "Must not point at this server (localhost)."
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return None
    if not is_public(name):
        return "Must be a public address, not a loopback, private, link-local or reserved one."
    return None


def _connect(address, timeout=socket._GLOBAL_DEFAULT_TIMEOUT, source_address=None, *args, **kwargs):  # noqa: SLF001
    """`socket.create_connection` to a public address of the host only."""
    if allow_private():
        return socket.create_connection(address, timeout, source_address, *args, **kwargs)
    host, port = address[0], address[1]
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    allowed = [info for info in found if is_public(info[4][0])]
    if not allowed:
        # The addresses go to the log, not into the error: the error is shown to the endpoint's
        # organization, which must not learn how internal names resolve.
        refused = ", ".join(sorted({info[4][0] for info in found}))
        logger.warning("webhook not sent: %s resolves to no public address (%s)", host, refused)
        raise BlockedAddress(f"{host} resolves to no public address: not sent")
    error: OSError | None = None
    deadline = _deadline.get()
    for family, kind, proto, _, sockaddr in allowed:
        sock = socket.socket(family, kind, proto)
        try:
            if deadline is not None:  # each address gets the time left, not a fresh timeout
                left = deadline.remaining()
                sock.settimeout(left if timeout is socket._GLOBAL_DEFAULT_TIMEOUT else min(timeout, left))  # noqa: SLF001
            elif timeout is not socket._GLOBAL_DEFAULT_TIMEOUT:  # noqa: SLF001
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            error = exc
            sock.close()
    raise error  # at least one address was tried, so `error` is set


class Deadline:
    """Bounds a whole HTTP exchange (connect, TLS, send, read) to `seconds` in total.

    A socket timeout bounds each operation only: a peer that sends one byte a second keeps a
    read going for ever. Inside `with Deadline(s):` each connection of this module connects with
    at most the time left, and at the deadline a timer shuts its socket down, which ends any
    send or read blocked on it at once (the caller then sees a closed connection; `expired`
    says why). One deadline per thread at a time.
    """

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.expired = threading.Event()
        self._at = time.monotonic() + seconds
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._token: contextvars.Token | None = None

    def remaining(self) -> float:
        return max(self._at - time.monotonic(), 0.001)

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            expired = self.expired.is_set()
        if expired:
            _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired.set()
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)

    def __enter__(self) -> Deadline:
        self._token = _deadline.set(self)
        self._timer.start()
        return self

    def __exit__(self, *exc) -> None:
        self._timer.cancel()
        with self._lock:
            self._sockets.clear()  # closed by their owners; never shut down after the exchange
        if self._token is not None:
            _deadline.reset(self._token)


_deadline: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar("webhook_deadline", default=None)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class _Bounded:
    """Connects within the current Deadline's time left and hands it the socket."""

    timeout: float | None
    sock: socket.socket | None

    def connect(self) -> None:
        deadline = _deadline.get()
        if deadline is not None:
            left = deadline.remaining()
            self.timeout = left if not isinstance(self.timeout, (int, float)) else min(self.timeout, left)
        super().connect()  # type: ignore[misc]
        if deadline is not None and self.sock is not None:
            deadline.watch(self.sock)


class _BoundedHTTPConnection(_Bounded, http.client.HTTPConnection):
    pass


class _BoundedHTTPSConnection(_Bounded, http.client.HTTPSConnection):
    pass


class _GuardedHTTPConnection(_Bounded, http.client.HTTPConnection):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = _connect


class _GuardedHTTPSConnection(_Bounded, http.client.HTTPSConnection):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = _connect


def _via_proxy(request: urllib.request.Request) -> bool:
    return request.has_proxy() or getattr(request, "_tunnel_host", None) is not None


class GuardedHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req):
        return self.do_open(_BoundedHTTPConnection if _via_proxy(req) else _GuardedHTTPConnection, req)


class GuardedHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req):
        connection = _BoundedHTTPSConnection if _via_proxy(req) else _GuardedHTTPSConnection
        return self.do_open(connection, req, context=self._context)
