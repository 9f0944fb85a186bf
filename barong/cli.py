"""Flask CLI commands: `flask seed`, `flask mail retry`, `flask kv purge`."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup


def register_commands(app: Flask) -> None:
    @app.cli.command("seed")
    def seed_command():
        """Create levels, permissions, restrictions and the admin (idempotent)."""
        from barong.services import seeding
        from barong.services.infra import unit_of_work

        created = seeding.seed()
        unit_of_work.commit()
        click.echo(seeding.summary(created, seeding.present()))

    mail = AppGroup("mail", help="Mail delivery.")

    @mail.command("retry")
    def mail_retry():
        """Re-send mails whose delivery failed."""
        from barong.services.delivery import mail as mail_service

        click.echo(f"sent {mail_service.retry_pending()}")

    app.cli.add_command(mail)

    kv = AppGroup("kv", help="Expiring key/value marks.")

    @kv.command("purge")
    def kv_purge():
        """Delete expired marks from the database store."""
        from barong.services.infra import kv as kv_service
        from barong.services.infra import unit_of_work

        n = kv_service.purge_expired()
        unit_of_work.commit()
        click.echo(f"purged {n}")

    app.cli.add_command(kv)
    from barong.events.cli import (
        events as events_group,  # flask events dispatch|stats|retry
    )
    app.cli.add_command(events_group)
    app.cli.add_command(__import__("barong.management_client", fromlist=["cli"]).cli)  # flask management …
