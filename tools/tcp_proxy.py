"""A loopback TCP proxy that can make the server behind it unreachable, for fault tests.

Why: a stopped database refuses connections at once, which is the easy failure. The hard one is
a database host that stops answering (a network partition, a dead host): connecting then hangs
until a timeout, if there is one. ``cut()`` drops every open connection and, from then on,
accepts new ones but never forwards a byte, so a client waits exactly as it would for a dead
host. ``restore()`` forwards again.
"""

from __future__ import annotations

import socket
import threading

__all__ = ["TcpProxy"]


class TcpProxy:
    def __init__(self, upstream: str | tuple[str, int]) -> None:
        """``upstream``: a Unix socket path or a ``(host, port)``; listens on 127.0.0.1:``self.port``."""
        self.upstream = upstream
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._cut = False
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, name="tcp-proxy", daemon=True).start()

    def _connect_upstream(self) -> socket.socket:
        if isinstance(self.upstream, str):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.connect(self.upstream)
            return sock
        return socket.create_connection(self.upstream)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            with self._lock:
                self._open.add(client)
                if self._cut:
                    continue  # held open, never answered: a host that does not respond
            try:
                server = self._connect_upstream()
            except OSError:
                self._close(client)
                continue
            with self._lock:
                self._open.add(server)
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        self._close(source)
        self._close(target)

    def _close(self, sock: socket.socket) -> None:
        with self._lock:
            self._open.discard(sock)
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()

    def cut(self) -> None:
        """Drop every connection; accept new ones but never forward (they hang until the client gives up)."""
        with self._lock:
            self._cut = True
            links = list(self._open)
        for sock in links:
            self._close(sock)

    def restore(self) -> None:
        """Forward new connections again (the ones accepted while cut stay dead)."""
        with self._lock:
            self._cut = False
            held = list(self._open)
        for sock in held:
            self._close(sock)

    def close(self) -> None:
        self._listener.close()
        self.cut()
