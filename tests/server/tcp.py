"""A tiny threaded TCP server for fault tests: it counts connections and either holds them open
without a word (a database that accepts and never answers) or forwards them to a real server
(a database that can be switched off and on again)."""

from __future__ import annotations

import contextlib
import socket
import threading
from types import TracebackType


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            sink.sendall(data)
    with contextlib.suppress(OSError):
        sink.shutdown(socket.SHUT_WR)


class TcpServer:
    """Listens on 127.0.0.1:`port` (0: any free port) once started.

    Without `forward_to` every accepted connection is held open and never answered; with it,
    each connection is piped to that (host, port). `accepted` counts connections so far.
    """

    def __init__(self, port: int = 0, *, forward_to: tuple[str, int] | None = None) -> None:
        self.port = port
        self.forward_to = forward_to
        self.accepted = 0
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> TcpServer:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.1)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._stopped.clear()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        return self

    def _serve(self) -> None:
        assert self._listener is not None
        while not self._stopped.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.accepted += 1
                self._sockets.append(conn)
            if self.forward_to is not None:
                self._forward(conn)

    def _forward(self, conn: socket.socket) -> None:
        assert self.forward_to is not None
        try:
            upstream = socket.create_connection(self.forward_to, timeout=5)
        except OSError:
            conn.close()
            return
        upstream.settimeout(None)
        conn.settimeout(None)
        with self._lock:
            self._sockets.append(upstream)
        for source, sink in ((conn, upstream), (upstream, conn)):
            threading.Thread(target=_pipe, args=(source, sink), daemon=True).start()

    def stop(self) -> None:
        """Stop listening and drop every connection; the port refuses connections again."""
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(5)
        with self._lock:
            for sock in [*self._sockets, *([self._listener] if self._listener else [])]:
                with contextlib.suppress(OSError):
                    sock.close()
            self._sockets.clear()
        self._listener = None

    def __enter__(self) -> TcpServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
