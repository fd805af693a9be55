"""What stands between the network and the app: the Host check, the body-size limit and the bound on heavy work.

The first two are plain ASGI middleware, so they act before FastAPI reads anything: a request for a host this
server does not serve is refused before its body is read (DNS rebinding), and a body is counted while it streams
in, whatever its headers say, so a chunked upload of a gigabyte is cut off at the limit instead of being read into
memory. :class:`WorkLimiter` bounds the estimates in flight (requests and samples), so a burst of maximal requests
queues or gets 503 instead of starving cheap requests such as ``/api/health``.

Every refusal has the app's error shape: ``{"detail": [{"loc": [...], "msg": "...", "type": "..."}]}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import json
import threading
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Iterator, MutableMapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
T = TypeVar("T")

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


def error_body(loc: list[str | int], msg: str, kind: str) -> dict:
    """The app's one error shape."""
    return {"detail": [{"loc": loc, "msg": msg, "type": kind}]}


async def send_error(
    send: Send, status: int, loc: list[str | int], msg: str, kind: str, headers: Iterable[tuple[str, str]] = ()
) -> None:
    """Answer an error in the app's shape straight from ASGI (before FastAPI has seen the request)."""
    body = json.dumps(error_body(loc, msg, kind)).encode()
    raw = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *((k.encode("latin-1"), v.encode("latin-1")) for k, v in headers),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def _header(scope: Scope, name: bytes) -> str | None:
    for k, v in scope.get("headers", ()):
        if k.lower() == name:
            return v.decode("latin-1")
    return None


# -- the Host header -----------------------------------------------------------------------------------------------


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and every loopback address (all of 127.0.0.0/8, and ``::1``)."""
    h = host.strip().lower().removeprefix("[").removesuffix("]")
    if h == "localhost" or h.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


def served_hosts(host: str, port: int) -> list[str]:
    """The Host headers a server bound to ``host``:``port`` answers: the loopback names for a loopback bind, the
    address itself otherwise (an IPv6 address in brackets)."""
    if is_loopback(host):
        names = [*LOOPBACK_NAMES, host if ":" not in host else f"[{host.strip('[]')}]"]
    else:
        names = [f"[{host.strip('[]')}]" if ":" in host else host]
    return list(dict.fromkeys(f"{n.lower()}:{port}" for n in names))


def _split_host(value: str) -> tuple[str, str | None]:
    """``name[:port]`` (IPv6 in brackets) into the lowercased name and the port, if any."""
    v = value.strip().lower()
    if v.startswith("["):
        end = v.find("]")
        if end < 0:
            return v, None
        name, rest = v[: end + 1], v[end + 1 :]
        return name, rest[1:] if rest.startswith(":") else None
    name, sep, port = v.rpartition(":")
    return (name, port) if sep else (v, None)


class HostGuard:
    """Refuse (421) a request whose Host header names none of the served hosts.

    ``allowed`` holds ``name`` (any port) or ``name:port`` entries, IPv6 addresses in brackets; None accepts
    every host. A page from another site whose name has been re-pointed at 127.0.0.1 (DNS rebinding) sends its
    own name as Host, so it gets nothing from this server.
    """

    def __init__(self, app: ASGIApp, allowed: Iterable[str] | None) -> None:
        self.app = app
        self.any_port: set[str] = set()
        self.exact: set[str] = set()
        self.allowed = None if allowed is None else sorted(a.strip().lower() for a in allowed)
        for a in self.allowed or ():
            name, port = _split_host(a)
            if port is None:
                self.any_port.add(name)
            else:
                self.exact.add(f"{name}:{port}")

    def accepts(self, host: str | None) -> bool:
        if self.allowed is None:
            return True
        if not host:
            return False
        name, port = _split_host(host)
        return name in self.any_port or (port is not None and f"{name}:{port}" in self.exact)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self.accepts(host := _header(scope, b"host")):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        shown = "no Host header" if host is None else f"host {host[:100]!r}"
        await send_error(
            send,
            421,
            ["header", "host"],
            f"{shown} is not served here; this server answers {', '.join(self.allowed or [])}",
            "misdirected",
            [("connection", "close")],
        )


# -- the body -------------------------------------------------------------------------------------------------------


class BodyLimit:
    """Read a request body only up to ``max_bytes``, counting what arrives, whatever Content-Length says.

    A declared length over the limit is refused before anything is read; a chunked body is refused (413) as soon as
    the count passes the limit, and the connection is closed so nothing more is read. A body within the limit
    (at most ``max_bytes``, held once) is handed on to the app.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def _too_large(self, send: Send) -> None:
        await send_error(
            send,
            413,
            ["body"],
            f"request body over {self.max_bytes:,} bytes",
            "too_large",
            [("connection", "close")],
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = _header(scope, b"content-length")
        if length is not None:
            if not length.strip().isdigit():
                await send_error(
                    send,
                    400,
                    ["header", "content-length"],
                    f"content-length {length[:40]!r} is not a number of bytes",
                    "bad_request",
                    [("connection", "close")],
                )
                return
            if int(length) > self.max_bytes:
                await self._too_large(send)
                return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: nothing to answer
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._too_large(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        del chunks
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


# -- heavy work -----------------------------------------------------------------------------------------------------


class Busy(Exception):
    """The bound on heavy work is reached: answered 503 with Retry-After."""

    def __init__(self, msg: str, retry_after_s: int) -> None:
        super().__init__(msg)
        self.retry_after_s = retry_after_s


@dataclass(eq=False)
class _Waiter:
    weight: int
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future = field(repr=False)


def _wake(fut: asyncio.Future) -> None:
    if not fut.done():
        fut.set_result(None)


class WorkLimiter:
    """At most ``max_requests`` heavy requests run at once, holding at most ``max_samples`` samples between them;
    up to ``max_waiting`` more wait (first come, first served) at most ``wait_s`` seconds for a slot. Beyond that a
    request is refused with :class:`Busy`. One request alone always fits, whatever its samples.

    Waiting costs no thread: requests wait here, in the event loop, and only those admitted go to the thread pool
    or the worker processes (:meth:`run`, which holds the slot until the work is done).
    The counts are guarded by a lock, so a test (or another thread) may hold a slot with :meth:`hold`.
    """

    def __init__(
        self, max_requests: int, max_samples: int, max_waiting: int = 0, wait_s: float = 0.0, retry_after_s: int = 2
    ) -> None:
        if max_requests < 1 or max_samples < 1 or max_waiting < 0 or wait_s < 0:
            raise ValueError("WorkLimiter: max_requests, max_samples >= 1; max_waiting, wait_s >= 0")
        self.max_requests = max_requests
        self.max_samples = max_samples
        self.max_waiting = max_waiting
        self.wait_s = wait_s
        self.retry_after_s = retry_after_s
        self.running = 0
        self.samples = 0
        self._waiters: deque[_Waiter] = deque()
        self._lock = threading.Lock()

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    def _fits(self, weight: int) -> bool:
        return self.running == 0 or (self.running < self.max_requests and self.samples + weight <= self.max_samples)

    def _take(self, weight: int) -> None:
        self.running += 1
        self.samples += weight

    def _busy(self) -> Busy:
        return Busy(
            f"the server is busy: {self.running} estimate(s) running ({self.samples:,} samples; at most "
            f"{self.max_requests} and {self.max_samples:,}) and {len(self._waiters)} waiting; "
            f"retry in {self.retry_after_s} s",
            self.retry_after_s,
        )

    def try_acquire(self, weight: int) -> bool:
        """Take a slot now if one is free (and nobody is waiting), without waiting."""
        with self._lock:
            if self._waiters or not self._fits(weight):
                return False
            self._take(weight)
            return True

    def release(self, weight: int) -> None:
        with self._lock:
            self.running -= 1
            self.samples -= weight
            while self._waiters and self._fits(self._waiters[0].weight):
                w = self._waiters.popleft()
                self._take(w.weight)
                with contextlib.suppress(RuntimeError):  # its loop has closed: nobody is waiting any more
                    w.loop.call_soon_threadsafe(_wake, w.future)

    async def acquire(self, weight: int) -> None:
        """Take a slot, waiting for one if the queue has room; :class:`Busy` if not, or if the wait runs out."""
        with self._lock:
            if not self._waiters and self._fits(weight):
                self._take(weight)
                return
            if len(self._waiters) >= self.max_waiting or self.wait_s <= 0:
                raise self._busy()
            loop = asyncio.get_running_loop()
            waiter = _Waiter(weight, loop, loop.create_future())
            self._waiters.append(waiter)
        try:
            await asyncio.wait_for(asyncio.shield(waiter.future), self.wait_s)
        except BaseException as exc:  # the wait ran out, or the request was cancelled
            with self._lock:
                granted = waiter not in self._waiters
                if not granted:
                    self._waiters.remove(waiter)
                busy = self._busy()
            if granted:
                if isinstance(exc, TimeoutError):  # the slot came as the wait ran out: take it
                    return
                self.release(weight)
            if isinstance(exc, TimeoutError):
                raise busy from None
            raise

    async def run(self, weight: int, start: Callable[[], Awaitable[T]]) -> T:
        """Take a slot (as :meth:`acquire`), await ``start()`` and return its result.

        The slot is held until the work ends, even when the request is cancelled first (a client that went away):
        work handed to a thread or a worker process runs on, so it keeps counting against the bound.
        """
        await self.acquire(weight)
        try:
            task = asyncio.ensure_future(start())
        except BaseException:
            self.release(weight)
            raise
        task.add_done_callback(functools.partial(self._work_done, weight))
        return await asyncio.shield(task)

    def _work_done(self, weight: int, task: asyncio.Future) -> None:
        self.release(weight)
        if not task.cancelled():
            task.exception()  # retrieved, so that work whose request went away logs no "never retrieved"

    @contextlib.contextmanager
    def hold(self, weight: int = 1) -> Iterator[None]:
        """Hold a slot from synchronous code (a test), without waiting; ValueError if none is free."""
        if not self.try_acquire(weight):
            raise ValueError("no free slot to hold")
        try:
            yield
        finally:
            self.release(weight)
