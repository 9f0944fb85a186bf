"""One AMQP connection that publishes with publisher confirms (pika BlockingConnection).

Errors are sorted into two kinds the dispatcher treats differently:
* `BrokerUnavailable` — cannot connect / the connection dropped: not the event's fault,
  back off and reconnect; the event stays pending however long the outage lasts.
* `PublishRejected` — the broker refused this message (nack, channel closed by the
  broker): counts as a failed attempt of that event.
"""
from __future__ import annotations

import logging
import socket

import pika
from pika import exceptions as px

from barong.events import CATEGORIES, EXCHANGE_PREFIX

log = logging.getLogger(__name__)


class BrokerUnavailable(RuntimeError):
    pass


class PublishRejected(RuntimeError):
    pass


_CONNECTION_ERRORS = (px.AMQPConnectionError, px.ConnectionWrongStateError, px.ChannelWrongStateError,
                      px.StreamLostError, OSError, socket.timeout, EOFError)


class Publisher:
    def __init__(self, host: str, port: int = 5672, username: str = "guest", password: str = "guest", *,
                 connect_timeout: float = 5.0, heartbeat: int = 30):
        self.params = pika.ConnectionParameters(
            host=host, port=int(port), credentials=pika.PlainCredentials(username, password),
            heartbeat=heartbeat, blocked_connection_timeout=30, socket_timeout=connect_timeout,
            stack_timeout=connect_timeout * 2, connection_attempts=1, retry_delay=0,
            client_properties={"connection_name": "barong-events-dispatcher"})
        self.connection: pika.BlockingConnection | None = None
        self.channel = None
        self._declared: set[str] = set()

    @classmethod
    def from_config(cls, config) -> "Publisher":
        return cls(config["BARONG_EVENT_API_RABBITMQ_HOST"], config.get("BARONG_EVENT_API_RABBITMQ_PORT") or 5672,
                   config.get("BARONG_EVENT_API_RABBITMQ_USERNAME") or "guest",
                   config.get("BARONG_EVENT_API_RABBITMQ_PASSWORD") or "guest")

    @property
    def connected(self) -> bool:
        return self.connection is not None and self.connection.is_open and self.channel is not None \
            and self.channel.is_open

    def connect(self) -> None:
        if self.connected:
            return
        self.close()
        try:
            self.connection = pika.BlockingConnection(self.params)
            self._open_channel()
        except _CONNECTION_ERRORS as exc:
            self.close()
            raise BrokerUnavailable(f"cannot reach RabbitMQ at {self.params.host}:{self.params.port}: "
                                    f"{exc!r}") from None
        except px.AMQPChannelError as exc:
            self.close()
            raise BrokerUnavailable(f"RabbitMQ refused the channel: {exc!r}") from None
        log.info("connected to RabbitMQ at %s:%s", self.params.host, self.params.port)

    def _open_channel(self) -> None:
        self.channel = self.connection.channel()
        self.channel.confirm_delivery()
        self._declared.clear()
        for category in CATEGORIES:
            self._declare(f"{EXCHANGE_PREFIX}.{category}")

    def _declare(self, exchange: str) -> None:
        """Declare the direct exchange as Ruby's Bunny does (`channel.direct(name)`: not
        durable, not auto-deleted) so consumers written for the original can redeclare it.
        If an operator pre-declared it differently (406), use it as it is."""
        if exchange in self._declared:
            return
        try:
            self.channel.exchange_declare(exchange=exchange, exchange_type="direct", durable=False,
                                          auto_delete=False)
        except px.ChannelClosedByBroker as exc:
            if exc.reply_code != 406:
                raise
            log.warning("exchange %s exists with other settings (%s); using it as it is", exchange, exc.reply_text)
            self.channel = self.connection.channel()
            self.channel.confirm_delivery()
            self.channel.exchange_declare(exchange=exchange, passive=True)
        self._declared.add(exchange)

    def publish(self, exchange: str, routing_key: str, body: bytes, message_id: str, timestamp: int) -> None:
        """Publish one persistent message and wait for the broker's confirm."""
        self.connect()
        props = pika.BasicProperties(content_type="application/json", delivery_mode=2, message_id=message_id,
                                     timestamp=int(timestamp), app_id="barong", type=None)
        try:
            self._declare(exchange)
            self.channel.basic_publish(exchange=exchange, routing_key=routing_key, body=body, properties=props,
                                       mandatory=False)
        except (px.NackError, px.UnroutableError) as exc:
            raise PublishRejected(f"broker did not confirm: {exc!r}") from None
        except px.ChannelClosedByBroker as exc:
            self._reopen_channel_quietly()
            raise PublishRejected(f"broker closed the channel: {exc.reply_code} {exc.reply_text}") from None
        except _CONNECTION_ERRORS as exc:
            self.close()
            raise BrokerUnavailable(f"connection to RabbitMQ lost: {exc!r}") from None

    def _reopen_channel_quietly(self) -> None:
        try:
            self._open_channel()
        except Exception:  # the next publish reconnects from scratch
            self.close()

    def idle(self, seconds: float) -> None:
        """Wait while serving heartbeats (a plain sleep would let the broker drop us)."""
        if self.connected:
            try:
                self.connection.process_data_events(time_limit=seconds)
                return
            except _CONNECTION_ERRORS + (px.AMQPError,):
                self.close()
        import time

        time.sleep(seconds)

    def close(self) -> None:
        conn, self.connection, self.channel = self.connection, None, None
        if conn is not None and conn.is_open:
            try:
                conn.close()
            except Exception:
                pass
