"""A listening socket per HTTP worker process (ADR 0013): on Linux each worker binds its own
socket to the same address with ``SO_REUSEPORT``, and the kernel spreads new connections over
the workers by a hash of their addresses. With uvicorn's one shared socket a worker accepts every
connection that is waiting when it wakes, so a client opening its keep-alive connections at once
found most of them on one worker while the other sat idle.

uvicorn's process manager (``uvicorn.supervisors.Multiprocess``) hands each worker it starts, and
each it restarts, the list of sockets it was given, pickled into the spawned process. It is given
one ``ReusePortListener``: unpickled in the worker, it binds that worker's own socket. A dead
worker's socket closes with it; its replacement binds a new one."""

from __future__ import annotations

import socket
import sys
from typing import Any


def reuse_port_supported() -> bool:
    """Only Linux balances the connections of a ``SO_REUSEPORT`` group (BSD and macOS hand
    them all to one socket)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def bind(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` in the address's ``SO_REUSEPORT`` group."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


class ReusePortListener:
    """Stands for a worker's socket in the manager: ``host:port`` only. Pickled into a worker
    process it comes out as a socket of that worker's own (``bind``), which uvicorn's server
    listens on."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port

    def __reduce__(self) -> tuple[Any, tuple[str, int]]:
        return bind, (self.host, self.port)


def reserve(host: str, port: int) -> tuple[socket.socket, ReusePortListener]:
    """Bind the manager's own socket first: a port in use fails here, before any worker starts,
    port 0 becomes the port the kernel chose, and no process outside the group can take the
    port while workers come and go. The manager never listens on it, so no connection waits on
    it (only listening sockets receive connections)."""
    sock = bind(host, port)
    return sock, ReusePortListener(host, sock.getsockname()[1])
