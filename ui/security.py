"""The web edge: security headers, request-size and upload limits, login throttling, session expiry.

All of it is plain ASGI middleware around the FastAPI app that mounts the two Gradio apps, so
nothing depends on Gradio internals except the session store that is swapped for an expiring one.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

Scope = dict[str, Any]
ASGI = Callable[[Scope, Callable, Callable], Awaitable[None]]

# Gradio runs inline scripts and styles; everything else comes from this origin.
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; media-src 'self' blob:; connect-src 'self' ws: wss:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors {ancestors}"
)


def _send_json(status: int, body: dict, headers: list[tuple[bytes, bytes]] | None = None):  # noqa: ANN202
    payload = json.dumps(body).encode()

    async def respond(send: Callable) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                    *(headers or []),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    return respond


class SecurityHeaders:
    """nosniff and a CSP on every response; the review page may not be framed at all."""

    def __init__(self, app: ASGI, review_prefix: str = "/review") -> None:
        self.app, self.review_prefix = app, review_prefix

    async def __call__(self, scope: Scope, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        review = scope.get("path", "").startswith(self.review_prefix)

        async def with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() not in (b"x-frame-options", b"content-security-policy")
                ]
                headers += [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                    (b"x-frame-options", b"DENY" if review else b"SAMEORIGIN"),
                    (
                        b"content-security-policy",
                        CSP.format(ancestors="'none'" if review else "'self'").encode(),
                    ),
                ]
                if review:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


class RequestLimits:
    """Bodies over ``max_body`` bytes are refused before they reach a handler (a 1 MB "history"
    never takes the answer slot); uploads are refused: the app has no file input."""

    def __init__(self, app: ASGI, max_body: int) -> None:
        self.app, self.max_body = app, max_body

    async def __call__(self, scope: Scope, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        if path.rstrip("/").endswith("/upload") and scope.get("method") == "POST":
            await _send_json(403, {"error": "uploads are not accepted"})(send)
            return
        if path.startswith("/gradio_api/file=") or path.startswith("/file="):
            # The chat shows no file; files (CSV exports) are only served behind the review login.
            await _send_json(404, {"error": "not found"})(send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            await _send_json(413, {"error": f"request too large (at most {self.max_body} bytes)"})(
                send
            )
            return
        seen = 0
        too_large = False

        async def bounded() -> dict:
            nonlocal seen, too_large
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    too_large = True
                    return {"type": "http.disconnect"}
            return message

        await self.app(scope, bounded, send)


@dataclass
class LoginThrottle:
    """Failed logins per client and overall: after ``free`` failures a client waits a delay that
    doubles with each further failure (capped); too many failures overall slow everyone down."""

    free: int = 3
    max_delay_s: float = 300.0
    global_limit: int = 30  # failures per minute, all clients together
    _fails: dict[str, tuple[int, float]] = field(
        default_factory=dict
    )  # client -> (count, last failure)
    _recent: list[float] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_s(self, client: str, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        with self._lock:
            self._recent = [t for t in self._recent if now - t < 60]
            if len(self._recent) >= self.global_limit:
                return 60 - (now - self._recent[0])
            count, last = self._fails.get(client, (0, 0.0))
            if count < self.free:
                return 0.0
            delay = min(self.max_delay_s, 2.0 ** (count - self.free))
            return max(0.0, delay - (now - last))

    def failed(self, client: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            count, _ = self._fails.get(client, (0, 0.0))
            self._fails[client] = (count + 1, now)
            self._recent.append(now)

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._fails.pop(client, None)


class LoginGuard:
    """Throttles POST …/login by client address (the Gradio login route of the review page)."""

    def __init__(self, app: ASGI, throttle: LoginThrottle) -> None:
        self.app, self.throttle = app, throttle

    async def __call__(self, scope: Scope, receive: Callable, send: Callable) -> None:
        path = scope.get("path", "").rstrip("/")
        if scope["type"] != "http" or scope.get("method") != "POST" or not path.endswith("/login"):
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("?", 0))[0]
        wait = self.throttle.wait_s(client)
        if wait > 0:
            await _send_json(
                429,
                {"error": "too many failed logins; try again later", "retry_after_s": round(wait)},
                [(b"retry-after", str(int(wait) + 1).encode())],
            )(send)
            return
        status: list[int] = []

        async def watch(message: dict) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        await self.app(scope, receive, watch)
        if status and status[0] == 200:
            self.throttle.succeeded(client)
        elif status and status[0] in (400, 401):
            self.throttle.failed(client)
            logger.warning("review login failed client=%s", client)


class ExpiringTokens(dict):
    """Gradio's session store (token -> user) with an expiry: a session ends ``ttl_s`` after login."""

    def __init__(self, ttl_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.ttl_s = ttl_s
        self.clock = clock
        self._born: dict[str, float] = {}

    def __setitem__(self, key: str, value: str) -> None:
        self._born[key] = self.clock()
        super().__setitem__(key, value)

    def _alive(self, key: object) -> bool:
        born = self._born.get(key)  # type: ignore[arg-type]
        if born is None or self.clock() - born > self.ttl_s:
            super().pop(key, None)
            self._born.pop(key, None)  # type: ignore[arg-type]
            return False
        return True

    def get(self, key: object, default: Any = None) -> Any:
        return super().get(key, default) if self._alive(key) else default

    def __getitem__(self, key: str) -> str:
        if not self._alive(key):
            raise KeyError(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        return self._alive(key) and super().__contains__(key)
