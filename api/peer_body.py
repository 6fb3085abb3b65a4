"""The bodies peers send (``POST /handovers/inbox`` and ``/handovers/receipts``, no login): read
whole, at most ``STAFFEL_MAX_PEER_BODY_BYTES``, before anything parses them; more is a 413."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import problem

PEER_PATHS = frozenset({"/handovers/inbox", "/handovers/receipts"})


class PeerBodyLimit:
    """Plain ASGI middleware: refuses a peer's body over ``limit`` bytes (by its Content-Length,
    or while reading a body sent without one) and hands the app the body read so far."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in PEER_PATHS:
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length", b"0")
        if not length.isdigit() or int(length) > self.limit:
            await self._refuse(scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the peer went away
            body += message.get("body", b"")
            if len(body) > self.limit:
                await self._refuse(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem(
            413,
            "body-too-large",
            "The body is too large",
            f"a peer's document may have at most {self.limit} bytes (STAFFEL_MAX_PEER_BODY_BYTES)",
        )
        await response(scope, receive, send)
