"""`flask events dispatch [--once] | stats | retry (EVENT_ID… | --all-failed)`."""
from __future__ import annotations

import logging
import signal
import sys

import click
from flask import current_app
from flask.cli import AppGroup

events = AppGroup("events", help="Event API: publish the outbox to RabbitMQ.")


@events.command("dispatch")
@click.option("--once", is_flag=True, help="Publish what is pending now, then exit (status 1 if the broker is down).")
@click.option("--interval", default=1.0, show_default=True, help="Seconds between polls of the outbox.")
def dispatch(once: bool, interval: float):
    """Publish pending events with publisher confirms (until SIGTERM/SIGINT)."""
    from barong.events import broker_configured
    from barong.events.dispatcher import Dispatcher

    app = current_app._get_current_object()
    if not broker_configured(app.config):
        raise click.ClickException("BARONG_EVENT_API_RABBITMQ_HOST is not set: events stay in the outbox "
                                   "(mails are retried by `flask mail retry`)")
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("pika").setLevel(logging.CRITICAL)  # tracebacks per failed connect; we log one line
    dispatcher = Dispatcher(app, poll_interval=interval)
    if once:
        result = dispatcher.run_once()
        dispatcher.retry_mail()
        dispatcher.publisher.close()
        click.echo(f"published {len(result.published)}, failed {len(result.failed)}")
        if result.error:
            click.echo(f"stopped: {result.error}", err=True)
            sys.exit(1)
        return

    def _stop(signum, _frame):
        logging.getLogger(__name__).info("signal %s: stopping after the current event", signum)
        dispatcher.stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    dispatcher.run()


@events.command("stats")
def stats_command():
    """Outbox counts: pending / sent / failed events and mails."""
    from barong.services.delivery import outbox

    data = outbox.stats()
    for key in ("pending", "sent", "failed", "mail_pending", "mail_sent", "mail_failed"):
        click.echo(f"{key}: {data[key]}")
    click.echo(f"oldest_pending_at: {data['oldest_pending_at'] or '-'}")
    click.echo(f"broker: {'configured' if data['broker_configured'] else 'not configured (outbox + log only)'}")


@events.command("retry")
@click.argument("event_ids", nargs=-1)
@click.option("--all-failed", is_flag=True, help="Retry every failed event and mail.")
def retry_command(event_ids, all_failed: bool):
    """Put failed events (and failed mails) back to pending."""
    from barong.errors import BarongError
    from barong.extensions import db
    from barong.services.delivery import outbox

    if not event_ids and not all_failed:
        raise click.UsageError("give EVENT_IDs or --all-failed")
    n = outbox.retry_all_failed() if all_failed else 0
    for event_id in event_ids:
        try:
            outbox.retry(event_id)
            n += 1
        except BarongError as err:
            db.session.rollback()
            raise click.ClickException(f"{event_id}: {err.code}") from None
    db.session.commit()
    click.echo(f"retried {n}")
