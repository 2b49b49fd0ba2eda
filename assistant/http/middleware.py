"""Pure-ASGI middleware: request id, access log and metrics; request body size limit.

Pure ASGI (not ``BaseHTTPMiddleware``) so a response streams through untouched and the context
variable holding the request id is visible to the handler, which runs in the same context.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.http.logging import REQUEST_ID_HEADER, request_id_from, request_id_var
from assistant.http.metrics import Metrics

log = logging.getLogger("assistant.http.access")


class BodyTooLarge(HTTPException):
    """A request body over ``api.max_body_bytes`` (HTTP 413).

    An ``HTTPException`` so that FastAPI re-raises it while reading the body instead of turning it
    into a 400 "error parsing the body".
    """

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body is larger than {limit} bytes (api.max_body_bytes); send a smaller body.")


class BodyLimit:
    """Refuse bodies over ``limit`` bytes: by ``Content-Length`` up front, else while they stream in."""

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            if declared.isdigit():
                await _send_json(send, 413, {"detail": BodyTooLarge(self.limit).detail, "code": "body_too_large",
                                             "request_id": request_id_var.get()})
            else:
                await _send_json(send, 400, {"detail": "Content-Length is not a number.", "code": "bad_request",
                                             "request_id": request_id_var.get()})
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        await self.app(scope, counted, send)


class RequestContext:
    """Request id in, ``X-Request-ID`` out; one JSON access-log line and the request metrics per request.

    An exception no handler turned into a response becomes a 500 carrying the request id here, and
    its traceback is logged once with that id.
    """

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(_header(scope, REQUEST_ID_HEADER.lower().encode()))
        scope.setdefault("state", {})   # handlers note the caller and tier here for the log line
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status, response_started = message["status"], True
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"x-request-id"]
                message = {**message, "headers": [*headers, (b"x-request-id", request_id.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error serving %s %s", scope.get("method"), scope.get("path"))
            if response_started:
                raise
            await _send_json(send_with_id, 500, {"detail": "internal error; quote the request id when reporting it.",
                                                 "code": "internal_error", "request_id": request_id})
        finally:
            seconds = time.perf_counter() - started
            route = scope.get("route")
            endpoint = getattr(route, "path", None) or "unmatched"
            state: dict[str, Any] = scope.get("state") or {}
            self.metrics.observe_request(endpoint=endpoint, method=scope.get("method", ""), status=status,
                                         seconds=seconds, tier=state.get("tier"))
            log.info("%s %s %s", scope.get("method"), scope.get("path"), status, extra={
                "method": scope.get("method"), "path": scope.get("path"), "endpoint": endpoint, "status": status,
                "duration_ms": round(seconds * 1000, 3), "caller": state.get("caller"), "tier": state.get("tier"),
                "conversation_id": state.get("conversation_id")})
            request_id_var.reset(token)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


async def _send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    payload = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})
