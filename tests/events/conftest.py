"""Fixtures for the Event API tests. They run against the REAL RabbitMQ on
127.0.0.1:5672 (guest/guest); if it is unreachable the tests fail (CI starts it)."""
from __future__ import annotations

import pika
import pytest

from tests.events.support import Consumer, TCPProxy, rabbit_params


@pytest.fixture(scope="session")
def rabbitmq():
    try:
        pika.BlockingConnection(rabbit_params()).close()
    except Exception as exc:  # not a skip: the Event API must be tested against a broker
        pytest.fail(f"RabbitMQ is not reachable on 127.0.0.1:5672 ({exc!r}); start it: rabbitmq-server -detached")
    return "127.0.0.1", 5672


@pytest.fixture
def broker_app(app, rabbitmq):
    """The app with the Event API switched on (restored by the `app` fixture)."""
    app.config["BARONG_EVENT_API_RABBITMQ_HOST"] = rabbitmq[0]
    app.config["BARONG_EVENT_API_RABBITMQ_PORT"] = rabbitmq[1]
    return app


@pytest.fixture
def consumer(rabbitmq):
    c = Consumer()
    yield c
    c.close()


@pytest.fixture
def proxy(rabbitmq):
    p = TCPProxy()
    p.start()
    yield p
    p.cut()
