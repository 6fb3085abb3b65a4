"""A TCP proxy in front of PostgreSQL that can make a commit's outcome unknown to the client: once
armed, it closes the client's connection when the server's CommandComplete for a COMMIT arrives,
without forwarding it. The server has committed; the client sees its connection lost around COMMIT.
The proxy reads the server's messages (type byte, int32 length, body): the server must answer an
SSL request with 'N' (the test server runs without SSL)."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from urllib.parse import urlsplit, urlunsplit

# SSLRequest, GSSENCRequest: the request codes in bytes 4..8 of the client's first message
NEGOTIATION = (struct.pack("!I", 80877103), struct.pack("!I", 80877104))


class CommitCutProxy:
    def __init__(self, server_url: str) -> None:
        parts = urlsplit(server_url)
        self._server = (parts.hostname or "127.0.0.1", parts.port or 5432)
        self._listener = socket.create_server(("127.0.0.1", 0))
        port = self._listener.getsockname()[1]
        netloc = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
        self.url = urlunsplit((parts.scheme, f"{netloc}127.0.0.1:{port}", parts.path, "", ""))
        self._armed = 0
        self.cuts = 0
        self._lock = threading.Lock()
        self._stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def cut_next_commits(self, count: int = 1) -> None:
        """The next ``count`` COMMITs acknowledged by the server do not reach their clients."""
        with self._lock:
            self._armed = count

    def close(self) -> None:
        self._stopped = True
        self._listener.close()

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(self._server)
            # SSL/GSS encryption requests are answered with one untyped byte ('N': go on plain)
            with contextlib.suppress(OSError):
                while (first := client.recv(8, socket.MSG_PEEK)) and first[4:8] in NEGOTIATION:
                    server.sendall(client.recv(8))
                    answer = server.recv(1)
                    client.sendall(answer)
            threading.Thread(target=self._upstream, args=(client, server), daemon=True).start()
            threading.Thread(target=self._downstream, args=(server, client), daemon=True).start()

    def _upstream(self, client: socket.socket, server: socket.socket) -> None:
        """Client to server: bytes as they come."""
        with contextlib.suppress(OSError):
            while data := client.recv(65536):
                server.sendall(data)
        _close(client, server)

    def _downstream(self, server: socket.socket, client: socket.socket) -> None:
        """Server to client, message by message, watching for CommandComplete "COMMIT"."""
        buffer = b""
        with contextlib.suppress(OSError):
            while data := server.recv(65536):
                buffer += data
                out = b""
                while len(buffer) >= 5:
                    (length,) = struct.unpack("!I", buffer[1:5])
                    if len(buffer) < 1 + length:
                        break
                    message, buffer = buffer[: 1 + length], buffer[1 + length :]
                    if message[:1] == b"C" and message[5:] == b"COMMIT\x00" and self._take():
                        client.sendall(out)
                        _close(client, server)
                        return
                    out += message
                client.sendall(out)
        _close(client, server)

    def _take(self) -> bool:
        with self._lock:
            if self._armed <= 0:
                return False
            self._armed -= 1
            self.cuts += 1
            return True


def _close(*sockets: socket.socket) -> None:
    for s in sockets:
        with contextlib.suppress(OSError):
            s.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            s.close()
