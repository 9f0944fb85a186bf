"""A TCP proxy the test controls, put in front of Redis, SMTP or PostgreSQL to simulate
outages without touching the machine's shared services.

    with TCPProxy("127.0.0.1", 6379) as proxy:
        url = f"redis://127.0.0.1:{proxy.port}/15"
        proxy.hang()      # accept, forward nothing (packets dropped): clients wait for their timeouts
        proxy.cut()       # refuse new connections and close the open ones (the server is down)
        proxy.restore()   # forward again (connections from the outage are closed: their streams are lost)

Threads, one listener on a free loopback port; the port stays the same across cut and
restore (the listener is re-bound with SO_REUSEADDR). `connections` counts accepted
connections, `mode` is "forward", "hang" or "cut".
"""
from __future__ import annotations

import select
import socket
import threading

FORWARD, HANG, CUT = "forward", "hang", "cut"
_POLL = 0.05  # seconds between looks at the mode / the stop flag


class _Conn:
    def __init__(self, client: socket.socket):
        self.client = client
        self.upstream: socket.socket | None = None
        self.stale = False  # saw a hang: its bytes were dropped, it is closed on restore
        self.closed = threading.Event()

    def close(self) -> None:
        self.closed.set()
        for sock in (self.client, self.upstream):
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()


def outage_port(host: str = "127.0.0.1") -> int:
    """A free port below the kernel's ephemeral range: a proxy that stops listening during an
    outage must get its port back, and a port the kernel hands out as a client's source port
    (another test's connection, a worker's delivery thread) may be taken meanwhile."""
    import random

    try:
        low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    for _ in range(200):
        port = random.randint(max(1024, low - 12000), low - 1)
        with socket.socket() as s:
            try:
                s.bind((host, port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port below the ephemeral range")


class TCPProxy:
    def __init__(self, target_host: str, target_port: int, host: str = "127.0.0.1"):
        self.target = (target_host, int(target_port))
        self.host = host
        self.mode = FORWARD
        self.connections = 0
        self._lock = threading.Lock()
        self._conns: set[_Conn] = set()
        self._stop = threading.Event()
        self._listener: socket.socket | None = None
        self.port = outage_port(host)
        self._listen()
        self._acceptor = threading.Thread(target=self._accept_loop, name=f"tcp-proxy-{self.port}", daemon=True)
        self._acceptor.start()

    # -- control ----------------------------------------------------------------------------
    def hang(self) -> None:
        """Keep accepting, forward nothing either way (open connections included)."""
        with self._lock:
            if self._listener is None:  # after a cut: listening again, answering nothing
                self._listen()
            self.mode = HANG
            for conn in self._conns:
                conn.stale = True

    def cut(self) -> None:
        """Refuse new connections (nothing listens) and close every open one."""
        with self._lock:
            self.mode = CUT
            listener, self._listener = self._listener, None
            conns, self._conns = list(self._conns), set()
        if listener is not None:
            listener.close()
        for conn in conns:
            conn.close()

    def restore(self) -> None:
        """Forward again; connections that lived through a hang are closed (their bytes were lost)."""
        with self._lock:
            stale = [c for c in self._conns if c.stale]
            self._conns.difference_update(stale)
            if self._listener is None:
                self._listen()
            self.mode = FORWARD
        for conn in stale:
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self.cut()
        self._acceptor.join(timeout=2)

    def __enter__(self) -> "TCPProxy":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- machinery --------------------------------------------------------------------------
    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen(128)
        listener.setblocking(False)
        self.port = listener.getsockname()[1]
        self._listener = listener

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            listener = self._listener
            if listener is None:
                self._stop.wait(_POLL)
                continue
            try:
                ready, _, _ = select.select([listener], [], [], _POLL)
                if not ready:
                    continue
                client, _addr = listener.accept()
            except (OSError, ValueError):  # closed by cut() meanwhile
                continue
            client.setblocking(True)
            with self._lock:
                self.connections += 1
                mode = self.mode
                conn = _Conn(client)
                conn.stale = mode == HANG
                self._conns.add(conn)
            if mode == CUT:
                conn.close()
                continue
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: _Conn) -> None:
        if conn.stale:  # accepted during a hang: never connect upstream, drop what arrives
            self._pump(conn, conn.client, None)
            return
        try:
            conn.upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            self._drop(conn)
            return
        back = threading.Thread(target=self._pump, args=(conn, conn.upstream, conn.client), daemon=True)
        back.start()
        self._pump(conn, conn.client, conn.upstream)

    def _pump(self, conn: _Conn, src: socket.socket, dst: socket.socket | None) -> None:
        try:
            while not conn.closed.is_set():
                ready, _, _ = select.select([src], [], [], _POLL)
                if not ready:
                    continue
                data = src.recv(65536)
                if not data:
                    break
                if self.mode != FORWARD or conn.stale or dst is None:
                    conn.stale = True  # dropped on the floor, like a blackholed link
                    continue
                dst.sendall(data)
        except (OSError, ValueError):
            pass
        self._drop(conn)

    def _drop(self, conn: _Conn) -> None:
        with self._lock:
            self._conns.discard(conn)
        conn.close()
