"""Test helpers for the Event API: a consumer bound to Barong's exchanges and a TCP
proxy in front of RabbitMQ that a test can cut (a broker outage without stopping the
machine's real broker, which other test runs share)."""
from __future__ import annotations

import json
import socket
import threading
import time

import pika

from barong.events import REFERENCE_EVENTS, exchange_for, routing_key_for

RABBIT = ("127.0.0.1", 5672)


def rabbit_params(port: int = RABBIT[1]) -> pika.ConnectionParameters:
    return pika.ConnectionParameters(host=RABBIT[0], port=port, credentials=pika.PlainCredentials("guest", "guest"),
                                     socket_timeout=3, connection_attempts=1)


class Consumer:
    """An exclusive queue bound to `barong.events.model` / `.system` with every reference
    routing key, like a consumer written for the Ruby original. Other test runs share the
    broker, so messages are filtered by the event ids a test expects."""

    def __init__(self):
        self.connection = pika.BlockingConnection(rabbit_params())
        self.channel = self.connection.channel()
        for category in ("model", "system"):
            # as Ruby's Bunny `channel.direct(name)` declares it (not durable)
            self.channel.exchange_declare(f"barong.events.{category}", exchange_type="direct", durable=False)
        self.queue = self.channel.queue_declare("", exclusive=True).method.queue
        for name in REFERENCE_EVENTS:
            self.channel.queue_bind(self.queue, exchange_for(name), routing_key=routing_key_for(name))
        self.received: list[dict] = []

    def _pull(self) -> bool:
        method, props, body = self.channel.basic_get(self.queue, auto_ack=True)
        if method is None:
            return False
        self.received.append({"exchange": method.exchange, "routing_key": method.routing_key, "props": props,
                              "body": body, "envelope": json.loads(body)})
        return True

    def wait_for(self, event_ids, timeout: float = 15.0) -> list[dict]:
        """Messages whose message_id is in `event_ids` (all of them, duplicates kept), in arrival order."""
        wanted = set(event_ids)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            while self._pull():
                pass
            if wanted <= {m["props"].message_id for m in self.received}:
                break
            self.connection.process_data_events(time_limit=0.05)
        return [m for m in self.received if m["props"].message_id in wanted]

    def close(self):
        try:
            self.connection.close()
        except Exception:
            pass


class TCPProxy:
    """127.0.0.1:<port> → RabbitMQ. `cut()` closes the listener and every live connection
    (the broker looks down: connection refused / connection lost); `restore()` listens again
    on the same port."""

    def __init__(self, target=RABBIT):
        self.target = target
        from tests.faults.tcp_proxy import outage_port

        self.port = outage_port()  # not an ephemeral port: restore() must get it back
        self._socks: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener = None
        self.connections = 0

    def restore(self):
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        listener.settimeout(0.05)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    start = restore

    def _accept(self, listener):
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except (socket.timeout, BlockingIOError):
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=3)
            except OSError:
                client.close()
                continue
            client.settimeout(None)
            upstream.settimeout(None)
            with self._lock:
                self._socks += [client, upstream]
                self.connections += 1
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self):
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        with self._lock:
            socks, self._socks = self._socks, []
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    close = cut
